/// Character classes as Python's `str` methods and `re` (Unicode mode) define them, for the places where
/// Ansible's behaviour depends on them: line splitting and stripping, `\w` in host and group names.
enum PythonText {
    /// `str.isspace()`, also `\s` in `re`.
    static func isSpace(_ c: Unicode.Scalar) -> Bool {
        switch c.value {
        case 0x09...0x0D, 0x1C...0x20, 0x85, 0xA0, 0x1680, 0x2000...0x200A, 0x2028, 0x2029, 0x202F, 0x205F, 0x3000:
            return true
        default:
            return false
        }
    }

    /// `\w` in `re`: `str.isalnum()` or underscore.
    static func isWord(_ c: Unicode.Scalar) -> Bool {
        if c.value < 0x80 {
            switch c.value {
            case 0x30...0x39, 0x41...0x5A, 0x61...0x7A, 0x5F: return true
            default: return false
            }
        }
        switch c.properties.generalCategory {
        case .uppercaseLetter, .lowercaseLetter, .titlecaseLetter, .modifierLetter, .otherLetter,
            .decimalNumber, .letterNumber, .otherNumber:
            return true
        default:
            return false
        }
    }

    /// `str.strip()`.
    static func strip(_ s: Substring) -> Substring {
        let scalars = s.unicodeScalars
        guard let first = scalars.firstIndex(where: { !isSpace($0) }) else { return s[s.endIndex...] }
        let last = scalars.lastIndex(where: { !isSpace($0) })!
        return Substring(scalars[first...last])
    }

    /// `str.splitlines()`: lines end at \n, \r, \r\n, \v, \f, \x1c-\x1e, \x85, U+2028 and U+2029.
    static func splitLines(_ text: String) -> [Substring] {
        var lines: [Substring] = []
        let scalars = text.unicodeScalars
        var start = scalars.startIndex
        var i = start
        while i < scalars.endIndex {
            let c = scalars[i]
            switch c.value {
            case 0x0A, 0x0B, 0x0C, 0x1C, 0x1D, 0x1E, 0x85, 0x2028, 0x2029:
                lines.append(Substring(scalars[start..<i]))
                i = scalars.index(after: i)
                start = i
            case 0x0D:
                lines.append(Substring(scalars[start..<i]))
                i = scalars.index(after: i)
                if i < scalars.endIndex && scalars[i] == "\n" { i = scalars.index(after: i) }
                start = i
            default:
                i = scalars.index(after: i)
            }
        }
        if start < scalars.endIndex { lines.append(Substring(scalars[start...])) }
        return lines
    }

    /// `int(text)` for the strings Ansible passes it: surrounding whitespace, a sign, ASCII digits with single
    /// underscores between them. Nil where Python raises ValueError (or the value does not fit 64 bits).
    static func int(_ text: Substring) -> Int? {
        var s = strip(text)
        var negative = false
        if let f = s.first, f == "+" || f == "-" {
            negative = f == "-"
            s = s.dropFirst()
        }
        guard let first = s.first, first != "_", s.last != "_", !s.contains("__") else { return nil }
        var value = 0
        for c in s.unicodeScalars where c != "_" {
            guard c.value >= 0x30 && c.value <= 0x39 else { return nil }
            let (m, o1) = value.multipliedReportingOverflow(by: 10)
            let (a, o2) = m.addingReportingOverflow(Int(c.value - 0x30))
            if o1 || o2 { return nil }
            value = a
        }
        return negative ? -value : value
    }
}
