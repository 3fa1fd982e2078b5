/// Host names as inventory files declare them: `web1`, `web1:2222`, `[2001:db8::1]:2222`, `web[01:50:2]`,
/// `db-[a:f]`. Ported from Ansible's `parse_address` and `expand_hostname_range`, quirks included, so every
/// name that ansible-inventory would list, fwctl lists too.
enum HostDeclaration {
    struct RangeError: Error, CustomStringConvertible {
        var description: String
    }

    /// Limits how many names ranges may produce, so `h[0:999999999]` is an error instead of exhausting memory.
    struct Budget {
        var remaining: Int
    }

    /// `_expand_hostpattern`: the names a declaration stands for, and its port if it gives one.
    static func expand(_ pattern: String, budget: inout Budget) throws -> (names: [String], port: Int?) {
        // Without ':' there is no port and without '[' no range: the name is the pattern, valid or not.
        if !pattern.utf8.contains(where: { $0 == UInt8(ascii: ":") || $0 == UInt8(ascii: "[") }) {
            try spend(1, from: &budget)
            return ([pattern], nil)
        }
        var name = pattern
        var port: Int?
        if let parsed = parseAddress(pattern, allowRanges: true) {
            name = parsed.host
            port = parsed.port
        }
        if name.utf8.contains(UInt8(ascii: "[")) {
            return (try expandRanges(name, budget: &budget), port)
        }
        try spend(1, from: &budget)
        return ([name], port)
    }

    private static func spend(_ count: Int, from budget: inout Budget) throws {
        guard count <= budget.remaining else {
            throw RangeError(description: "host ranges expand to more hosts than fwctl accepts for the whole inventory")
        }
        budget.remaining -= count
    }

    // MARK: parse_address

    /// The host and optional port, or nil where Ansible's `parse_address` raises (not a valid host name,
    /// IPv4 or IPv6 address; or a range where ranges are not allowed).
    static func parseAddress(_ address: String, allowRanges: Bool) -> (host: String, port: Int?)? {
        var address = Substring(address)
        var port: Int?
        // Both port forms are tried in turn, the second on what the first left.
        if let (inner, p) = bracketedHostPort(address) { address = inner; port = p }
        if let (inner, p) = hostPort(address) { address = inner; port = p }
        guard isIPv4(address) || isIPv6(address) || isHostname(address) else { return nil }
        if !allowRanges && address.utf8.contains(UInt8(ascii: "[")) { return nil }
        return (String(address), port)
    }

    /// The position of the last `:` when only ASCII digits follow it, and the port they give.
    private static func trailingPort(_ s: Substring) -> (colon: Substring.Index, port: Int)? {
        guard let colon = s.lastIndex(of: ":") else { return nil }
        let digits = s[s.index(after: colon)...]
        guard !digits.isEmpty, digits.utf8.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }), let port = Int(digits) else {
            return nil
        }
        return (colon, port)
    }

    /// `^\[(.+)\]:([0-9]+)$`
    private static func bracketedHostPort(_ s: Substring) -> (Substring, Int)? {
        guard s.first == "[", let (colon, port) = trailingPort(s), colon > s.startIndex else { return nil }
        let close = s.index(before: colon)
        guard s[close] == "]", close > s.index(after: s.startIndex) else { return nil }
        let inner = s[s.index(after: s.startIndex)..<close]
        guard !inner.utf8.contains(0x0A) else { return nil }
        return (inner, port)
    }

    /// `^((?:[^:\[\]]|\[[^\]]*\])*):([0-9]+)$`
    private static func hostPort(_ s: Substring) -> (Substring, Int)? {
        guard let (colon, port) = trailingPort(s) else { return nil }
        let prefix = s[..<colon]
        var i = prefix.startIndex
        while i < prefix.endIndex {
            let c = prefix[i]
            if c == "[" {
                guard let close = prefix[i...].firstIndex(of: "]") else { return nil }
                i = prefix.index(after: close)
            } else if c == "]" || c == ":" {
                return nil
            } else {
                i = prefix.index(after: i)
            }
        }
        return (prefix, port)
    }

    // MARK: Address syntax (ranges allowed in place of components)

    /// `[0-9]+:[0-9]+(:[0-9]+)?` inside brackets (`numeric_range`); with `hex`, `[0-9a-f]+` bounds.
    private static func isRangeBody(_ body: Substring, hex: Bool, letters: Bool) -> Bool {
        let parts = body.split(separator: ":", omittingEmptySubsequences: false)
        guard parts.count == 2 || parts.count == 3 else { return false }
        func digits(_ p: Substring) -> Bool { !p.isEmpty && p.utf8.allSatisfy { $0 >= 0x30 && $0 <= 0x39 } }
        func hexDigits(_ p: Substring) -> Bool { !p.isEmpty && p.unicodeScalars.allSatisfy { PythonLiteral.hexValue($0) != nil } }
        func letter(_ p: Substring) -> Bool {
            p.utf8.count == 1 && p.utf8.allSatisfy { ($0 >= 0x41 && $0 <= 0x5A) || ($0 >= 0x61 && $0 <= 0x7A) }
        }
        if parts.count == 3 && !digits(parts[2]) { return false }
        if hex { return hexDigits(parts[0]) && hexDigits(parts[1]) }
        if letters && letter(parts[0]) && letter(parts[1]) { return true }
        return digits(parts[0]) && digits(parts[1])
    }

    /// Splits off a bracketed range at the start of `s`: its body and what follows.
    private static func leadingRange(_ s: Substring) -> (body: Substring, rest: Substring)? {
        guard s.first == "[", let close = s.firstIndex(of: "]") else { return nil }
        return (s[s.index(after: s.startIndex)..<close], s[s.index(after: close)...])
    }

    static func isIPv4(_ s: Substring) -> Bool {
        let parts = s.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 4 else { return false }
        return parts.allSatisfy { part in
            if let (body, rest) = leadingRange(part) { return rest.isEmpty && isRangeBody(body, hex: false, letters: false) }
            let u = Array(part.utf8)
            guard (1...3).contains(u.count), u.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }) else { return false }
            if u.count < 3 { return true }
            switch u[0] {
            case UInt8(ascii: "0"), UInt8(ascii: "1"): return true
            case UInt8(ascii: "2"): return u[1] < UInt8(ascii: "5") || (u[1] == UInt8(ascii: "5") && u[2] <= UInt8(ascii: "5"))
            default: return false
            }
        }
    }

    private enum V6Token: Equatable {
        case component(Substring)
        case colon
        case dot
    }

    private static func isV6Component(_ s: Substring) -> Bool {
        if let (body, rest) = leadingRange(s) { return rest.isEmpty && isRangeBody(body, hex: true, letters: false) }
        return (1...4).contains(s.unicodeScalars.count) && s.unicodeScalars.allSatisfy { PythonLiteral.hexValue($0) != nil }
    }

    private static func v6Tokens(_ s: Substring) -> [V6Token]? {
        var tokens: [V6Token] = []
        var i = s.startIndex
        while i < s.endIndex {
            let c = s[i]
            if c == ":" { tokens.append(.colon); i = s.index(after: i); continue }
            if c == "." { tokens.append(.dot); i = s.index(after: i); continue }
            var end = i
            if c == "[" {
                guard let close = s[i...].firstIndex(of: "]") else { return nil }
                end = s.index(after: close)
            } else {
                while end < s.endIndex, s[end] != ":", s[end] != ".", s[end] != "[" { end = s.index(after: end) }
            }
            let component = s[i..<end]
            guard isV6Component(component) else { return nil }
            if case .component = tokens.last { return nil }
            tokens.append(.component(component))
            i = end
        }
        return tokens
    }

    /// The `ipv6` pattern of Ansible's address parser: every compressed and uncompressed form, and the
    /// IPv4-in-IPv6 variants.
    static func isIPv6(_ s: Substring) -> Bool {
        guard s.utf8.contains(UInt8(ascii: ":")), let tokens = v6Tokens(s) else { return false }
        if tokens.contains(.dot) {
            // (0:){6}X.X.X.X | ::(ffff:)?X.X.X.X | (0:){5}ffff:X.X.X.X
            guard tokens.count >= 7 else { return false }
            let tail = tokens.suffix(7)
            for (n, t) in tail.enumerated() {
                if n % 2 == 0 { guard case .component = t else { return false } } else { guard t == .dot else { return false } }
            }
            let head = Array(tokens.dropLast(7))
            func literal(_ t: V6Token, _ text: String) -> Bool {
                if case .component(let c) = t { return c.lowercased() == text }
                return false
            }
            if head == [.colon, .colon] { return true }
            if head.count == 4, head[0] == .colon, head[1] == .colon, literal(head[2], "ffff"), head[3] == .colon { return true }
            if head.count == 12 {
                let zeros = (0..<6).allSatisfy { literal(head[$0 * 2], "0") && head[$0 * 2 + 1] == .colon }
                if zeros { return true }
                let zeros5 = (0..<5).allSatisfy { literal(head[$0 * 2], "0") && head[$0 * 2 + 1] == .colon }
                if zeros5 && literal(head[10], "ffff") && head[11] == .colon { return true }
            }
            return false
        }
        // Without dots: eight components, or one `::` with at most 7 components around it (6 on either side).
        var sides: [[V6Token]] = [[]]
        var n = 0
        while n < tokens.count {
            if tokens[n] == .colon, n + 1 < tokens.count, tokens[n + 1] == .colon {
                guard sides.count == 1 else { return false }
                sides.append([])
                n += 2
                continue
            }
            sides[sides.count - 1].append(tokens[n])
            n += 1
        }
        func count(_ side: [V6Token]) -> Int? {
            // "" or component(:component)*
            if side.isEmpty { return 0 }
            for (k, t) in side.enumerated() {
                if k % 2 == 0 { guard case .component = t else { return nil } } else { guard t == .colon else { return nil } }
            }
            return side.count % 2 == 1 ? (side.count + 1) / 2 : nil
        }
        if sides.count == 1 { return count(sides[0]) == 8 }
        guard let left = count(sides[0]), let right = count(sides[1]) else { return false }
        return left <= 6 && right <= 6 && left + right <= 7
    }

    /// The `hostname` pattern: dot-separated labels of word characters, `-` and `[a:z]`/`[1:9]` ranges, each
    /// label starting with a word character or range and not ending in `-` or `_`.
    static func isHostname(_ s: Substring) -> Bool {
        let labels = s.split(separator: ".", omittingEmptySubsequences: false)
        return labels.allSatisfy { label in
            var rest = label
            var first = true
            var lastChar: Unicode.Scalar?
            while let c = rest.unicodeScalars.first {
                if c == "[" {
                    guard let (body, after) = leadingRange(rest), isRangeBody(body, hex: false, letters: true) else { return false }
                    rest = after
                    lastChar = "]"
                } else {
                    guard PythonText.isWord(c) || (!first && c == "-") else { return false }
                    rest = Substring(rest.unicodeScalars.dropFirst())
                    lastChar = c
                }
                first = false
            }
            guard let lastChar else { return false }
            return lastChar != "-" && lastChar != "_"
        }
    }

    // MARK: expand_hostname_range

    private static let asciiLetters = Array("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ".unicodeScalars)

    /// Expands the first `[begin:end(:step)]` and then, recursively, the rest.
    static func expandRanges(_ line: String, budget: inout Budget) throws -> [String] {
        // head [ range ] tail, exactly as `replace('[', '|', 1).replace(']', '|', 1).split('|')`.
        guard !line.utf8.contains(UInt8(ascii: "|")), let open = line.firstIndex(of: "[") else {
            throw RangeError(description: "'\(line)' is not a valid host range: expected NAME[BEGIN:END] or NAME[BEGIN:END:STEP]")
        }
        var replaced = line
        replaced.replaceSubrange(open...open, with: "|")
        guard let close = replaced.firstIndex(of: "]") else {
            throw RangeError(description: "'\(line)' has a '[' without a closing ']'")
        }
        replaced.replaceSubrange(close...close, with: "|")
        let parts = replaced.split(separator: "|", omittingEmptySubsequences: false)
        guard parts.count == 3 else {
            throw RangeError(description: "'\(line)' is not a valid host range: expected NAME[BEGIN:END] or NAME[BEGIN:END:STEP]")
        }
        let (head, range, tail) = (parts[0], parts[1], parts[2])
        let bounds = range.split(separator: ":", omittingEmptySubsequences: false)
        guard bounds.count == 2 || bounds.count == 3 else {
            throw RangeError(description: "host range [\(range)] must be BEGIN:END or BEGIN:END:STEP")
        }
        var begin = bounds[0]
        let end = bounds[1]
        let stepText: Substring = bounds.count == 3 ? bounds[2] : "1"
        if begin.isEmpty { begin = "0" }
        guard !end.isEmpty else { throw RangeError(description: "host range [\(range)] has no end value") }

        var padding: Int?
        if begin.first == "0" && begin.count > 1 {
            guard begin.count == end.count else {
                throw RangeError(description: "host range [\(range)]: zero-padded bounds must have the same length")
            }
            padding = begin.count
        }

        var sequence: [String] = []
        if let b = letterIndex(begin), let e = letterIndex(end), let step = PythonText.int(stepText), step != 0 {
            guard b <= e else { throw RangeError(description: "host range [\(range)] must have BEGIN <= END") }
            if step > 0 {
                try spend((e - b) / step + 1, from: &budget)
                for k in stride(from: b, through: e, by: step) { sequence.append(String(asciiLetters[k])) }
            }
        } else {
            guard let b = PythonText.int(begin), let e = PythonText.int(end), let step = PythonText.int(stepText) else {
                throw RangeError(description: "host range [\(range)]: BEGIN, END and STEP must be numbers or single letters")
            }
            guard step != 0 else { throw RangeError(description: "host range [\(range)]: the step must not be zero") }
            // Python's range(begin, end + 1, step).
            let (stop, o1) = e.addingReportingOverflow(1)
            let (span, o2) = step > 0 ? stop.subtractingReportingOverflow(b) : b.subtractingReportingOverflow(stop)
            guard !o1, !o2, step != Int.min else {
                throw RangeError(description: "host range [\(range)] expands to more hosts than fwctl accepts")
            }
            let count = span > 0 ? (span - 1) / abs(step) + 1 : 0
            try spend(count, from: &budget)
            var k = b
            for _ in 0..<count {
                sequence.append(zeroFilled(k, width: padding))
                k += step
            }
        }

        var names: [String] = []
        names.reserveCapacity(sequence.count)
        for item in sequence {
            let name = String(head) + item + String(tail)
            if name.utf8.contains(UInt8(ascii: "[")) {
                budget.remaining += 1  // this name is replaced by its own expansion
                names += try expandRanges(name, budget: &budget)
            } else {
                names.append(name)
            }
        }
        return names
    }

    /// `string.ascii_letters.index(s)`: where `s` occurs in a-zA-Z (a substring search, as in Python).
    private static func letterIndex(_ s: Substring) -> Int? {
        let needle = Array(s.unicodeScalars)
        guard !needle.isEmpty, needle.count <= asciiLetters.count else { return nil }
        for start in 0...(asciiLetters.count - needle.count) where asciiLetters[start] == needle[0] {
            if Array(asciiLetters[start..<start + needle.count]) == needle { return start }
        }
        return nil
    }

    /// `str(x).zfill(width)`.
    private static func zeroFilled(_ value: Int, width: Int?) -> String {
        let digits = String(value.magnitude)
        let sign = value < 0 ? "-" : ""
        guard let width, sign.count + digits.count < width else { return sign + digits }
        return sign + String(repeating: "0", count: width - sign.count - digits.count) + digits
    }
}
