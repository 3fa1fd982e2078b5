/// PyYAML's YAML 1.1 scalar rules: which plain scalars are booleans, numbers and timestamps, and their values.
enum YAML11 {
    static func bool(_ text: String) -> Bool? {
        switch text {
        case "yes", "Yes", "YES", "true", "True", "TRUE", "on", "On", "ON": return true
        case "no", "No", "NO", "false", "False", "FALSE", "off", "Off", "OFF": return false
        default: return nil
        }
    }

    private static func isDigit(_ b: UInt8) -> Bool { b >= 0x30 && b <= 0x39 }

    /// Skips `[-+]?`.
    private static func afterSign(_ u: [UInt8]) -> Int {
        if let f = u.first, f == UInt8(ascii: "-") || f == UInt8(ascii: "+") { return 1 }
        return 0
    }

    /// `(?::[0-5]?[0-9])+` from `i`; returns the index after it, or nil when there is not at least one group.
    private static func sexagesimalGroups(_ u: [UInt8], from start: Int) -> Int? {
        var i = start
        var groups = 0
        while i < u.count, u[i] == UInt8(ascii: ":") {
            var j = i + 1
            if j + 1 < u.count, u[j] >= 0x30, u[j] <= 0x35, isDigit(u[j + 1]) {
                j += 2
            } else if j < u.count, isDigit(u[j]) {
                j += 1
            } else {
                break
            }
            // `[0-5]?[0-9]` is greedy but may backtrack: "1:7" and "1:57" both match; "1:67" only as "1:6" + "7".
            i = j
            groups += 1
        }
        return groups > 0 ? i : nil
    }

    /// `[0-9_]*` from `i`.
    private static func digitsOrUnderscores(_ u: [UInt8], from start: Int) -> Int {
        var i = start
        while i < u.count, isDigit(u[i]) || u[i] == UInt8(ascii: "_") { i += 1 }
        return i
    }

    /// `(?:[eE][-+][0-9]+)?` then end of text.
    private static func optionalExponentThenEnd(_ u: [UInt8], from start: Int) -> Bool {
        var i = start
        if i == u.count { return true }
        guard u[i] == UInt8(ascii: "e") || u[i] == UInt8(ascii: "E") else { return false }
        i += 1
        guard i < u.count, u[i] == UInt8(ascii: "-") || u[i] == UInt8(ascii: "+") else { return false }
        i += 1
        guard i < u.count else { return false }
        while i < u.count { guard isDigit(u[i]) else { return false }; i += 1 }
        return true
    }

    static func matchesFloat(_ text: String) -> Bool {
        let u = Array(text.utf8)
        let s = afterSign(u)
        switch text.dropFirst(s) {
        case ".inf", ".Inf", ".INF": return true
        default: break
        }
        if s == 0, text == ".nan" || text == ".NaN" || text == ".NAN" { return true }
        // \.[0-9][0-9_]*(exp)?  (no sign)
        if s == 0, u.count >= 2, u[0] == UInt8(ascii: "."), isDigit(u[1]) {
            return optionalExponentThenEnd(u, from: digitsOrUnderscores(u, from: 2))
        }
        guard s < u.count, isDigit(u[s]) else { return false }
        let afterInt = digitsOrUnderscores(u, from: s + 1)
        // [0-9][0-9_]*\.[0-9_]*(exp)?
        if afterInt < u.count, u[afterInt] == UInt8(ascii: ".") {
            return optionalExponentThenEnd(u, from: digitsOrUnderscores(u, from: afterInt + 1))
        }
        // [0-9][0-9_]*(:[0-5]?[0-9])+\.[0-9_]*
        if let afterGroups = sexagesimalGroups(u, from: afterInt), afterGroups < u.count, u[afterGroups] == UInt8(ascii: ".") {
            return digitsOrUnderscores(u, from: afterGroups + 1) == u.count
        }
        return false
    }

    static func matchesInt(_ text: String) -> Bool {
        let u = Array(text.utf8)
        let s = afterSign(u)
        guard s < u.count else { return false }
        let rest = u[s...]
        func all(_ from: Int, _ ok: (UInt8) -> Bool) -> Bool { from < u.count && u[from...].allSatisfy(ok) }
        if rest.starts(with: Array("0b".utf8)) { return all(s + 2) { $0 == 0x30 || $0 == 0x31 || $0 == UInt8(ascii: "_") } }
        if rest.starts(with: Array("0x".utf8)) {
            return all(s + 2) { PythonLiteral.hexValue(Unicode.Scalar($0)) != nil || $0 == UInt8(ascii: "_") }
        }
        if u[s] == UInt8(ascii: "0") {
            if s + 1 == u.count { return true }
            return all(s + 1) { ($0 >= 0x30 && $0 <= 0x37) || $0 == UInt8(ascii: "_") }
        }
        guard isDigit(u[s]) else { return false }
        let afterInt = digitsOrUnderscores(u, from: s + 1)
        if afterInt == u.count { return true }
        if let afterGroups = sexagesimalGroups(u, from: afterInt) { return afterGroups == u.count }
        return false
    }

    /// Python's `int(text, base)` on what PyYAML hands it (underscores already removed).
    private static func pythonInt(_ text: Substring, radix: Int) -> Int? {
        var t = PythonText.strip(text)
        let prefixes = [16: "0x", 8: "0o", 2: "0b"]
        if let p = prefixes[radix], t.lowercased().hasPrefix(p) { t = t.dropFirst(2) }
        guard !t.isEmpty else { return nil }
        return Int(t, radix: radix)
    }

    /// `construct_yaml_int`; an integer beyond 64 bits becomes a float.
    static func integer(_ text: String) -> InventoryValue? {
        var value = Substring(text.replacingOccurrences(of: "_", with: ""))
        var sign = 1
        if value.first == "-" { sign = -1 }
        if let f = value.first, f == "-" || f == "+" { value = value.dropFirst() }
        guard let first = value.first else { return nil }
        let magnitude: Int?
        if value == "0" {
            magnitude = 0
        } else if value.hasPrefix("0b") {
            magnitude = pythonInt(value.dropFirst(2), radix: 2)
        } else if value.hasPrefix("0x") {
            magnitude = pythonInt(value.dropFirst(2), radix: 16)
        } else if first == "0" {
            magnitude = pythonInt(value, radix: 8)
        } else if value.utf8.contains(UInt8(ascii: ":")) {
            var total = 0
            for part in value.split(separator: ":", omittingEmptySubsequences: false) {
                guard let d = PythonText.int(part) else { return nil }
                let (m, o1) = total.multipliedReportingOverflow(by: 60)
                let (a, o2) = m.addingReportingOverflow(d)
                if o1 || o2 { return nil }
                total = a
            }
            magnitude = total
        } else {
            magnitude = PythonText.int(value)
            if magnitude == nil, value.allSatisfy(\.isASCII), value.allSatisfy(\.isNumber), let d = Double(value) {
                return .double(Double(sign) * d)
            }
        }
        guard let magnitude else { return nil }
        return .int(sign * magnitude)
    }

    /// `construct_yaml_float`.
    static func float(_ text: String) -> Double? {
        var value = Substring(text.replacingOccurrences(of: "_", with: "").lowercased())
        var sign = 1.0
        if value.first == "-" { sign = -1 }
        if let f = value.first, f == "-" || f == "+" { value = value.dropFirst() }
        if value == ".inf" { return sign * .infinity }
        if value == ".nan" { return .nan }
        if value.utf8.contains(UInt8(ascii: ":")) {
            var total = 0.0
            for part in value.split(separator: ":", omittingEmptySubsequences: false) {
                guard let d = Double(PythonText.strip(part)) else { return nil }
                total = total * 60 + d
            }
            return sign * total
        }
        guard let d = Double(PythonText.strip(value)) else { return nil }
        return sign * d
    }

    // MARK: Timestamps

    private struct Timestamp {
        var year, month, day: Int
        var time: (hour: Int, minute: Int, second: Int, fraction: Substring?)?
        var zone: (sign: Int, hour: Int, minute: Int)?  // sign 0: "Z"
    }

    /// The constructor's pattern: `YYYY-M-D` with an optional time, fraction and zone.
    private static func parseTimestamp(_ text: String) -> Timestamp? {
        let u = Array(text.utf8)
        var i = 0
        func digits(min: Int, max: Int) -> Int? {
            var n = 0, value = 0
            while n < max, i < u.count, isDigit(u[i]) { value = value * 10 + Int(u[i] - 0x30); i += 1; n += 1 }
            return n >= min ? value : nil
        }
        func take(_ c: Character) -> Bool {
            guard i < u.count, u[i] == c.asciiValue! else { return false }
            i += 1
            return true
        }
        guard let year = digits(min: 4, max: 4), take("-"), let month = digits(min: 1, max: 2), take("-"),
            let day = digits(min: 1, max: 2)
        else { return nil }
        var stamp = Timestamp(year: year, month: month, day: day)
        if i == u.count { return stamp }
        if take("T") || take("t") {
        } else {
            guard i < u.count, u[i] == 0x20 || u[i] == 0x09 else { return nil }
            while i < u.count, u[i] == 0x20 || u[i] == 0x09 { i += 1 }
        }
        guard let hour = digits(min: 1, max: 2), take(":"), let minute = digits(min: 2, max: 2), take(":"),
            let second = digits(min: 2, max: 2)
        else { return nil }
        var fraction: Substring?
        if take(".") {
            let start = i
            while i < u.count, isDigit(u[i]) { i += 1 }
            fraction = Substring(String(decoding: u[start..<i], as: UTF8.self))
        }
        stamp.time = (hour, minute, second, fraction)
        while i < u.count, u[i] == 0x20 || u[i] == 0x09 { i += 1 }
        if i == u.count { return stamp }
        if take("Z") {
            stamp.zone = (0, 0, 0)
        } else if i < u.count, u[i] == UInt8(ascii: "+") || u[i] == UInt8(ascii: "-") {
            let sign = u[i] == UInt8(ascii: "-") ? -1 : 1
            i += 1
            guard let h = digits(min: 1, max: 2) else { return nil }
            var m = 0
            if take(":") { guard let mm = digits(min: 2, max: 2) else { return nil }; m = mm }
            stamp.zone = (sign, h, m)
        } else {
            return nil
        }
        return i == u.count ? stamp : nil
    }

    /// The resolver's pattern: as the constructor's, but a date alone needs two-digit month and day, and
    /// whitespace before the zone only after a time.
    static func matchesTimestamp(_ text: String) -> Bool {
        guard let stamp = parseTimestamp(text) else { return false }
        if stamp.time == nil { return text.utf8.count == 10 }
        return true
    }

    /// The ISO text Ansible prints for a timestamp (Python's `isoformat()`), or an error for impossible dates.
    static func timestamp<E: Error>(_ text: String, _ failure: (String) -> E) throws -> String? {
        guard let stamp = parseTimestamp(text) else { return nil }
        let daysInMonth = [31, stamp.year % 4 == 0 && (stamp.year % 100 != 0 || stamp.year % 400 == 0) ? 29 : 28,
                           31, 30, 31, 30, 31, 31, 30, 31, 30, 31]
        guard stamp.year >= 1 else { throw failure("year \(stamp.year) is out of range in '\(text)'") }
        guard (1...12).contains(stamp.month) else { throw failure("month must be in 1..12 in '\(text)'") }
        guard (1...daysInMonth[stamp.month - 1]).contains(stamp.day) else { throw failure("day is out of range for month in '\(text)'") }
        func two(_ n: Int) -> String { n < 10 ? "0\(n)" : "\(n)" }
        var out = String(repeating: "0", count: max(0, 4 - String(stamp.year).count)) + "\(stamp.year)-\(two(stamp.month))-\(two(stamp.day))"
        guard let time = stamp.time else { return out }
        guard time.hour < 24, time.minute < 60, time.second < 60 else { throw failure("time is out of range in '\(text)'") }
        out += "T\(two(time.hour)):\(two(time.minute)):\(two(time.second))"
        if let fraction = time.fraction, !fraction.isEmpty {
            let micro = String((fraction + "000000").prefix(6))
            if micro != "000000" { out += "." + micro }
        }
        if let zone = stamp.zone {
            guard zone.hour * 60 + zone.minute < 24 * 60 else { throw failure("time zone offset is out of range in '\(text)'") }
            out += (zone.sign < 0 && zone.hour * 60 + zone.minute > 0 ? "-" : "+") + "\(two(zone.hour)):\(two(zone.minute))"
        }
        return out
    }
}
