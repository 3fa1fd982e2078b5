import FWBase
import Foundation

/// Ansible's host patterns, as `--limit` takes them: `all` or `*`, host and group names, shell wildcards
/// (`web*`, `db-?`, `[ab]*`), regular expressions (`~web\d+`), subscripts (`web[0]`, `web[1:3]`, `web[-1]`),
/// unions (`web:db`, `web,db`), intersections (`web:&prod`) and exclusions (`web:!web3`). Unions are applied
/// first, then intersections, then exclusions, whatever their order in the pattern.
///
/// Unlike Ansible, which only warns, a term that matches no host or group is an error: a typo in a pattern must
/// not silently select fewer (or, in an exclusion, more) hosts than meant.
extension Inventory {
    /// The hosts the pattern selects, in inventory order. `@FILE` terms read further terms from FILE, one per
    /// line (Ansible's retry files).
    public func select(_ pattern: String) throws -> [InventoryHost] {
        var terms: [String] = []
        for term in Self.splitPattern(pattern) {
            if term.hasPrefix("@") {
                let path = String(term.dropFirst())
                let data: [UInt8]
                do {
                    data = try LocalFile.readBytes(path)
                } catch {
                    throw InventoryError("cannot read the limit file '\(DisplayEscaping.escaped(path))' (\(error.reason))",
                                         hint: "check the path after '@'")
                }
                terms += String(decoding: data, as: UTF8.self).split(separator: "\n", omittingEmptySubsequences: false)
                    .map { String(PythonText.strip($0)) }
            } else {
                terms.append(term)
            }
        }
        let selected = try evaluate(terms: terms, pattern: pattern)
        guard !selected.isEmpty else {
            throw InventoryError("no hosts matched the host pattern '\(pattern)'", hint: "`fwctl inventory --graph` shows the groups and hosts")
        }
        return selected.sorted().map(host(at:))
    }

    /// `split_host_pattern`: commas separate terms; without commas, colons do, unless the whole pattern is one
    /// address (`2001:db8::1`, `host:22`) or the colons are inside a range (`web[1:3]`).
    static func splitPattern(_ pattern: String) -> [String] {
        var terms: [String]
        if pattern.utf8.contains(UInt8(ascii: ",")) {
            terms = pattern.split(separator: ",", omittingEmptySubsequences: false).map(String.init)
        } else if HostDeclaration.parseAddress(pattern, allowRanges: true) != nil {
            terms = [pattern]
        } else {
            // re.findall(r'(?:[^\s:\[\]]|\[[^\]]*\])+')
            terms = []
            var current = String.UnicodeScalarView()
            let scalars = Array(pattern.unicodeScalars)
            var i = 0
            func flush() {
                if !current.isEmpty { terms.append(String(current)) }
                current = String.UnicodeScalarView()
            }
            while i < scalars.count {
                let c = scalars[i]
                if c == "[", let close = scalars[(i + 1)...].firstIndex(of: "]") {
                    current.append(contentsOf: scalars[i...close])
                    i = close + 1
                } else if c == ":" || c == "[" || c == "]" || PythonText.isSpace(c) {
                    flush()
                    i += 1
                } else {
                    current.append(c)
                    i += 1
                }
            }
            flush()
        }
        return terms.map { String(PythonText.strip(Substring($0))) }.filter { !$0.isEmpty }
    }

    private func evaluate(terms: [String], pattern: String) throws -> [Int] {
        // order_patterns: plain terms, then &terms, then !terms; only modifiers means `all` plus them.
        var plain = terms.filter { !$0.isEmpty && !$0.hasPrefix("&") && !$0.hasPrefix("!") }
        let intersections = terms.filter { $0.hasPrefix("&") }
        let exclusions = terms.filter { $0.hasPrefix("!") }
        if plain.isEmpty { plain = ["all"] }

        var result: [Int] = []
        var inResult = Set<Int>()
        for term in plain + intersections + exclusions {
            if let h = hostIndex[term] {
                // A term that is exactly a host name selects that host (even if a group has the same name).
                if inResult.insert(h).inserted { result.append(h) }
                continue
            }
            let matched = try matchOne(term, in: pattern)
            if term.hasPrefix("!") {
                let remove = Set(matched)
                result.removeAll { remove.contains($0) }
                inResult.subtract(remove)
            } else if term.hasPrefix("&") {
                let keep = Set(matched)
                result.removeAll { !keep.contains($0) }
                inResult.formIntersection(keep)
            } else {
                for h in matched where inResult.insert(h).inserted { result.append(h) }
            }
        }
        return result
    }

    /// One term without its `&`/`!`: the hosts of every group it matches, plus matching hosts.
    private func matchOne(_ rawTerm: String, in pattern: String) throws -> [Int] {
        var term = Substring(rawTerm)
        if term.hasPrefix("&") || term.hasPrefix("!") { term = term.dropFirst() }
        guard !term.isEmpty else {
            throw InventoryError("empty term '\(rawTerm)' in host pattern '\(pattern)'")
        }
        let (expression, slice) = Self.splitSubscript(term)
        let matcher = try NameMatcher(expression, pattern: pattern)

        var hosts: [Int] = []
        var seen = Set<Int>()
        var matchedGroup = false
        for (g, record) in groupRecords.enumerated() where matcher.matches(record.name) {
            matchedGroup = true
            for h in hostIndices(inGroup: g) where seen.insert(h).inserted { hosts.append(h) }
        }
        let special = expression.hasPrefix("~") || expression.contains { ".?*[".contains($0) }
        if !matchedGroup || special {
            for (h, record) in hostRecords.enumerated() where matcher.matches(record.name) && seen.insert(h).inserted {
                hosts.append(h)
            }
        }
        if hosts.isEmpty && !matchedGroup && expression != "all" {
            throw InventoryError(
                "'\(term)' in host pattern '\(pattern)' matches no host or group",
                hint: suggestion(for: String(expression)) ?? "`fwctl inventory --graph` shows the groups and hosts")
        }
        guard let slice, !hosts.isEmpty else { return hosts }
        // _apply_subscript, with Python's indexing: [i] one host (negative from the end), [a:b] inclusive.
        func index(_ i: Int) -> Int? {
            let k = i < 0 ? hosts.count + i : i
            return hosts.indices.contains(k) ? k : nil
        }
        if let end = slice.end, end != 0 {
            let last = end == -1 ? hosts.count - 1 : end
            let lower = min(max(slice.start < 0 ? hosts.count + slice.start : slice.start, 0), hosts.count)
            let upper = min(max(last + 1, 0), hosts.count)
            return lower < upper ? Array(hosts[lower..<upper]) : []
        }
        guard let k = index(slice.start) else {
            throw InventoryError(
                "'\(term)' in host pattern '\(pattern)': index \(slice.start) is out of range (\(hosts.count) hosts match '\(expression)')")
        }
        return [hosts[k]]
    }

    /// `_split_subscript`: `web[2]`, `web[-1]`, `web[1:3]`, `web[1:]` (and the old `web[1-3]`).
    static func splitSubscript(_ term: Substring) -> (Substring, (start: Int, end: Int?)?) {
        guard !term.hasPrefix("~"), term.hasSuffix("]"), let open = term.lastIndex(of: "["), open > term.startIndex else {
            return (term, nil)
        }
        let body = term[term.index(after: open)..<term.index(before: term.endIndex)]
        let expression = term[..<open]
        func digits(_ s: Substring) -> Bool { !s.isEmpty && s.utf8.allSatisfy { $0 >= 0x30 && $0 <= 0x39 } }
        if let idx = Int(body), digits(body.hasPrefix("-") ? body.dropFirst() : body) {
            return (expression, (idx, nil))
        }
        if let sep = body.firstIndex(where: { $0 == ":" || $0 == "-" }) {
            let start = body[..<sep], end = body[body.index(after: sep)...]
            guard digits(start), end.isEmpty || digits(end), let s = Int(start) else { return (term, nil) }
            return (expression, (s, end.isEmpty ? -1 : Int(end)))
        }
        return (term, nil)
    }

    /// A close group or host name, for "did you mean".
    private func suggestion(for name: String) -> String? {
        let candidates = groupRecords.map(\.name) + hostRecords.map(\.name)
        var best: (String, Int)?
        for candidate in candidates where abs(candidate.count - name.count) <= 2 {
            let d = editDistance(candidate, name)
            if d <= 2, best == nil || d < best!.1 { best = (candidate, d) }
        }
        return best.map { "did you mean '\($0.0)'?" }
    }

    private func editDistance(_ a: String, _ b: String) -> Int {
        let a = Array(a.unicodeScalars), b = Array(b.unicodeScalars)
        var previous = Array(0...b.count)
        for i in 1...max(a.count, 1) where !a.isEmpty {
            var current = [i] + Array(repeating: 0, count: b.count)
            for j in 1...max(b.count, 1) where !b.isEmpty {
                current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1))
            }
            previous = current
        }
        return a.isEmpty ? b.count : previous[b.count]
    }
}

/// Matches group and host names against one pattern term: a shell wildcard (Python's `fnmatch`, case-sensitive)
/// or, with a leading `~`, a regular expression matched at the start of the name (Python's `re.match`).
struct NameMatcher {
    private enum Kind {
        case exact(String)
        case glob([Unicode.Scalar])
        case regex(LinearRegex)
    }

    private let kind: Kind

    init(_ expression: Substring, pattern: String) throws {
        if expression.hasPrefix("~") {
            do {
                kind = .regex(try LinearRegex(String(expression.dropFirst())))
            } catch {
                throw InventoryError(
                    "invalid regular expression '\(expression.dropFirst())' in host pattern '\(pattern)': \(error)")
            }
        } else if expression.contains(where: { $0 == "*" || $0 == "?" || $0 == "[" }) {
            kind = .glob(Array(expression.unicodeScalars))
        } else {
            kind = .exact(String(expression))
        }
    }

    func matches(_ name: String) -> Bool {
        switch kind {
        case .exact(let s): return name == s
        case .glob(let p): return Self.glob(p, Array(name.unicodeScalars))
        case .regex(let r): return r.matchesPrefix(of: name)
        }
    }

    /// fnmatch: `*` any run, `?` any one character, `[abc]`, `[a-z]`, `[!abc]`; a `[` without `]` is literal.
    static func glob(_ p: [Unicode.Scalar], _ s: [Unicode.Scalar]) -> Bool {
        var pi = 0, si = 0
        var starP = -1, starS = 0
        while si < s.count {
            if pi < p.count {
                switch p[pi] {
                case "*":
                    starP = pi; starS = si; pi += 1
                    continue
                case "?":
                    pi += 1; si += 1
                    continue
                case "[":
                    if let (matched, next) = matchClass(p, pi, s[si]) {
                        if matched { pi = next; si += 1; continue }
                    } else if s[si] == "[" {
                        pi += 1; si += 1
                        continue
                    }
                default:
                    if p[pi] == s[si] { pi += 1; si += 1; continue }
                }
            }
            guard starP >= 0 else { return false }
            pi = starP + 1
            starS += 1
            si = starS
        }
        while pi < p.count && p[pi] == "*" { pi += 1 }
        return pi == p.count
    }

    /// A `[...]` class at `start`: whether `c` is in it and the index after it, or nil when it is not closed.
    private static func matchClass(_ p: [Unicode.Scalar], _ start: Int, _ c: Unicode.Scalar) -> (Bool, Int)? {
        var j = start + 1
        var negate = false
        if j < p.count && p[j] == "!" { negate = true; j += 1 }
        let first = j
        var matched = false
        while j < p.count && (p[j] != "]" || j == first) {
            if j + 2 < p.count && p[j + 1] == "-" && p[j + 2] != "]" {
                if p[j].value <= c.value && c.value <= p[j + 2].value { matched = true }
                j += 3
            } else {
                if p[j] == c { matched = true }
                j += 1
            }
        }
        guard j < p.count else { return nil }
        return (matched != negate, j + 1)
    }
}
