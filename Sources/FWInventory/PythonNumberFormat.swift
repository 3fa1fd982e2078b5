/// Numbers written the way Python writes them, so fwctl's JSON is byte for byte what `ansible-inventory` prints.
enum PythonNumberFormat {
    /// `repr(float)` as `json.dumps` writes it: shortest round-trip digits, exponent form below 1e-4 and from
    /// 1e16 on (`1e-05`, `1e+16`), `.0` on integral values, and `NaN`/`Infinity`/`-Infinity` for the rest.
    static func json(_ value: Double) -> String {
        if value.isNaN { return "NaN" }
        if value.isInfinite { return value < 0 ? "-Infinity" : "Infinity" }
        return repr(value)
    }

    /// Python's `repr(float)` for a finite value.
    static func repr(_ value: Double) -> String {
        let (digits, pointPosition) = shortestDigits(abs(value))
        let sign = value.sign == .minus ? "-" : ""
        if digits == "0" { return sign + "0.0" }
        // value = 0.DIGITS x 10^pointPosition
        if pointPosition <= -4 || pointPosition > 16 {
            let exponent = pointPosition - 1
            var mantissa = String(digits.first!)
            if digits.count > 1 { mantissa += "." + digits.dropFirst() }
            let expDigits = String(abs(exponent))
            return sign + mantissa + "e" + (exponent < 0 ? "-" : "+") + (expDigits.count < 2 ? "0" + expDigits : expDigits)
        }
        if pointPosition <= 0 {
            return sign + "0." + String(repeating: "0", count: -pointPosition) + digits
        }
        if pointPosition >= digits.count {
            return sign + digits + String(repeating: "0", count: pointPosition - digits.count) + ".0"
        }
        let split = digits.index(digits.startIndex, offsetBy: pointPosition)
        return sign + digits[..<split] + "." + digits[split...]
    }

    /// The shortest decimal digits that round-trip `value` (>= 0), without leading or trailing zeros, and the
    /// position of the decimal point relative to them. Swift's own description already produces the shortest
    /// round-trip digits; only their layout differs from Python's.
    static func shortestDigits(_ value: Double) -> (digits: String, pointPosition: Int) {
        let text = value.description  // "1234.5", "1e-05", "1.2345e+16", "5e-324"
        var mantissa = Substring(text)
        var exponent = 0
        if let e = text.firstIndex(where: { $0 == "e" || $0 == "E" }) {
            mantissa = text[..<e]
            exponent = Int(text[text.index(after: e)...]) ?? 0
        }
        var digits = ""
        var pointPosition = 0
        var seenPoint = false
        for ch in mantissa {
            if ch == "." { seenPoint = true; continue }
            digits.append(ch)
            if !seenPoint { pointPosition += 1 }
        }
        // Drop leading zeros (each moves the point left) and trailing zeros.
        while digits.count > 1 && digits.first == "0" {
            digits.removeFirst()
            pointPosition -= 1
        }
        while digits.count > 1 && digits.last == "0" { digits.removeLast() }
        if digits == "0" { return ("0", 1) }
        return (digits, pointPosition + exponent)
    }

    /// `str(complex)` / `repr(complex)`: `1j`, `(1+2j)`, `(-0-1j)`. Only reachable through INI values that
    /// Python's `literal_eval` reads as complex numbers, which Ansible then turns into strings.
    static func complexRepr(real: Double, imag: Double) -> String {
        func part(_ d: Double) -> String {
            if d.isNaN { return "nan" }
            if d.isInfinite { return d < 0 ? "-inf" : "inf" }
            var r = repr(d)
            if r.hasSuffix(".0") { r.removeLast(2) }
            return r
        }
        if real == 0 && real.sign == .plus {
            return part(imag) + "j"
        }
        let imagText = part(imag)
        let signed = imagText.hasPrefix("-") ? imagText : "+" + imagText
        return "(" + part(real) + signed + "j)"
    }
}
