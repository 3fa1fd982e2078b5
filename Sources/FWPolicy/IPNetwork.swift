/// An IPv4 or IPv6 network: an address and a prefix length, host bits zero. A single address is a network with
/// the full prefix (/32, /128).
public enum IPNetwork: Hashable, Sendable, Comparable, CustomStringConvertible {
    case v4(address: UInt32, prefix: UInt8)
    case v6(address: UInt128, prefix: UInt8)

    public enum Family: String, Sendable, CaseIterable {
        case v4, v6
    }

    public var family: Family {
        switch self {
        case .v4: return .v4
        case .v6: return .v6
        }
    }

    public var prefix: UInt8 {
        switch self {
        case .v4(_, let p), .v6(_, let p): return p
        }
    }

    /// True when the network is one address (/32 or /128).
    public var isSingleAddress: Bool {
        switch self {
        case .v4(_, let p): return p == 32
        case .v6(_, let p): return p == 128
        }
    }

    /// The whole address space of a family: 0.0.0.0/0 or ::/0.
    public static func any(_ family: Family) -> IPNetwork {
        family == .v4 ? .v4(address: 0, prefix: 0) : .v6(address: 0, prefix: 0)
    }

    /// The address in canonical text (dotted quad; RFC 5952 for IPv6), without the prefix.
    public var addressText: String {
        switch self {
        case .v4(let a, _): return IPNetwork.formatV4(a)
        case .v6(let a, _): return IPNetwork.formatV6(a)
        }
    }

    /// `203.0.113.5` for one address, `198.51.100.0/24` for a network.
    public var description: String {
        isSingleAddress ? addressText : "\(addressText)/\(prefix)"
    }

    /// Always with the prefix: `203.0.113.5/32`.
    public var cidrText: String { "\(addressText)/\(prefix)" }

    public static func < (lhs: IPNetwork, rhs: IPNetwork) -> Bool {
        switch (lhs, rhs) {
        case let (.v4(a, p), .v4(b, q)): return a != b ? a < b : p < q
        case let (.v6(a, p), .v6(b, q)): return a != b ? a < b : p < q
        case (.v4, .v6): return true
        case (.v6, .v4): return false
        }
    }
}

// MARK: Parsing

public struct IPNetworkParseError: Error, Equatable, Sendable, CustomStringConvertible {
    public var text: String
    public var reason: String
    public var description: String { "\(text.debugDescription) is not a valid address or network: \(reason)" }
}

extension IPNetwork {
    /// Parses `203.0.113.5`, `198.51.100.0/24`, `2001:db8::1`, `2001:db8::/32`. Strict: no leading zeros in IPv4
    /// parts (ambiguous: some tools read them as octal), no zone index, no host bits set in a network.
    public init(parsing text: String) throws(IPNetworkParseError) {
        let fail = { (reason: String) in IPNetworkParseError(text: text, reason: reason) }
        let parts = text.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count <= 2 else { throw fail("more than one '/'") }
        let addressText = parts[0]
        var prefix: Int?
        if parts.count == 2 {
            let p = parts[1]
            guard !p.isEmpty, p.count <= 3, p.utf8.allSatisfy({ $0 >= 48 && $0 <= 57 }),
                  p == "0" || p.first != "0", let value = Int(p) else {
                throw fail("the prefix length after '/' must be a number")
            }
            prefix = value
        }
        if addressText.contains(":") {
            guard let address = IPNetwork.parseV6(addressText) else {
                throw fail(addressText.contains("%") ? "zone indexes (%...) are not allowed" : "malformed IPv6 address")
            }
            let p = prefix ?? 128
            guard p <= 128 else { throw fail("an IPv6 prefix length is 0 to 128") }
            let network: UInt128 = p == 0 ? 0 : (address >> (128 - UInt128(p))) << (128 - UInt128(p))
            guard network == address else {
                throw fail("host bits are set; the network is \(IPNetwork.formatV6(network))/\(p)")
            }
            self = .v6(address: address, prefix: UInt8(p))
        } else {
            guard let address = IPNetwork.parseV4(addressText) else {
                throw fail("malformed IPv4 address (four numbers 0-255 without leading zeros)")
            }
            let p = prefix ?? 32
            guard p <= 32 else { throw fail("an IPv4 prefix length is 0 to 32") }
            let network: UInt32 = p == 0 ? 0 : (address >> (32 - UInt32(p))) << (32 - UInt32(p))
            guard network == address else {
                throw fail("host bits are set; the network is \(IPNetwork.formatV4(network))/\(p)")
            }
            self = .v4(address: address, prefix: UInt8(p))
        }
    }

    /// True when `text` looks like an IP literal (v4 or v6, with or without prefix) rather than a name.
    public static func looksLikeAddress(_ text: String) -> Bool {
        text.contains(":") || (text.first?.isNumber == true && text.utf8.allSatisfy { ($0 >= 48 && $0 <= 57) || $0 == 46 || $0 == 47 })
    }

    static func parseV4<S: StringProtocol>(_ text: S) -> UInt32? {
        var result: UInt32 = 0
        var parts = 0
        var value: UInt32 = 0
        var digits = 0
        var leadingZero = false
        for byte in text.utf8 {
            if byte == 46 {  // "."
                guard digits > 0, parts < 3 else { return nil }
                result = result << 8 | value
                parts += 1
                value = 0; digits = 0; leadingZero = false
            } else if byte >= 48 && byte <= 57 {
                if digits == 1 && leadingZero { return nil }
                if digits == 0 && byte == 48 { leadingZero = true }
                digits += 1
                value = value * 10 + UInt32(byte - 48)
                guard digits <= 3, value <= 255 else { return nil }
            } else {
                return nil
            }
        }
        guard digits > 0, parts == 3 else { return nil }
        return result << 8 | value
    }

    static func parseV6<S: StringProtocol>(_ text: S) -> UInt128? {
        let bytes = Array(text.utf8)
        guard !bytes.isEmpty, bytes.count <= 45 else { return nil }
        var head: [UInt16] = []
        var tail: [UInt16] = []
        var sawDoubleColon = false
        var i = 0
        // A leading "::" or a lone leading ':' is handled here so the loop sees one group per step.
        if bytes.starts(with: [58, 58]) {
            sawDoubleColon = true
            i = 2
            if i == bytes.count { return 0 }
        } else if bytes.first == 58 {
            return nil
        }
        while i < bytes.count {
            // An embedded IPv4 address may end the text: ::ffff:192.0.2.1
            var j = i
            var hasDot = false
            while j < bytes.count && bytes[j] != 58 { if bytes[j] == 46 { hasDot = true }; j += 1 }
            if hasDot {
                guard j == bytes.count, let v4 = parseV4(String(decoding: bytes[i..<j], as: UTF8.self)) else { return nil }
                let groups = [UInt16(v4 >> 16), UInt16(v4 & 0xFFFF)]
                if sawDoubleColon { tail += groups } else { head += groups }
                i = j
                break
            }
            let groupLength = j - i
            guard groupLength >= 1, groupLength <= 4 else { return nil }
            var group: UInt16 = 0
            for k in i..<j {
                guard let nibble = hexValue(bytes[k]) else { return nil }
                group = group << 4 | UInt16(nibble)
            }
            if sawDoubleColon { tail.append(group) } else { head.append(group) }
            i = j
            if i == bytes.count { break }
            // bytes[i] is ':'
            if i + 1 < bytes.count && bytes[i + 1] == 58 {
                guard !sawDoubleColon else { return nil }
                sawDoubleColon = true
                i += 2
                if i == bytes.count { break }
            } else {
                i += 1
                guard i < bytes.count else { return nil }  // trailing single ':'
            }
        }
        let total = head.count + tail.count
        if sawDoubleColon {
            guard total <= 7 else { return nil }
        } else {
            guard total == 8 else { return nil }
        }
        let groups = head + Array(repeating: 0, count: 8 - total) + tail
        return groups.reduce(UInt128(0)) { $0 << 16 | UInt128($1) }
    }

    private static func hexValue(_ byte: UInt8) -> UInt8? {
        switch byte {
        case 48...57: return byte - 48
        case 97...102: return byte - 87
        case 65...70: return byte - 55
        default: return nil
        }
    }

    static func formatV4(_ a: UInt32) -> String {
        "\(a >> 24).\(a >> 16 & 0xFF).\(a >> 8 & 0xFF).\(a & 0xFF)"
    }

    /// RFC 5952: lowercase, no leading zeros, the longest run (first if tied) of two or more zero groups as "::".
    static func formatV6(_ a: UInt128) -> String {
        let groups = (0..<8).map { UInt16(truncatingIfNeeded: a >> UInt128(112 - 16 * $0)) }
        var bestStart = -1, bestLength = 0
        var runStart = -1
        for index in 0...8 {
            if index < 8 && groups[index] == 0 {
                if runStart < 0 { runStart = index }
            } else if runStart >= 0 {
                let length = index - runStart
                if length > bestLength && length >= 2 { bestStart = runStart; bestLength = length }
                runStart = -1
            }
        }
        func hex(_ range: Range<Int>) -> String {
            range.map { String(groups[$0], radix: 16) }.joined(separator: ":")
        }
        guard bestStart >= 0 else { return hex(0..<8) }
        return hex(0..<bestStart) + "::" + hex((bestStart + bestLength)..<8)
    }
}
