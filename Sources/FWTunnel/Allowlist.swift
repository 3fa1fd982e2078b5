import FWBase
import NIOCore
#if canImport(Glibc)
import Glibc
#endif

/// Client addresses allowed to use a service: IPv4 and IPv6 addresses and CIDR networks. An IPv4 client seen as
/// an IPv4-mapped IPv6 address (a dual-stack listener) matches the IPv4 entries.
///
/// File format: one entry per line (`192.0.2.7`, `198.51.100.0/24`, `2001:db8::/32`); `#` starts a comment;
/// blank lines are ignored. An empty list allows nobody.
public struct Allowlist: Sendable, Equatable {
    public struct Network: Sendable, Equatable {
        /// 4 or 16 bytes, with the bits past the prefix cleared.
        var address: [UInt8]
        var prefix: Int
    }

    public private(set) var networks: [Network]

    public init(networks: [Network] = []) { self.networks = networks }

    public static func parse(_ text: String, file: String) throws -> Allowlist {
        var networks: [Network] = []
        for (index, rawLine) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let line = rawLine.split(separator: "#", maxSplits: 1, omittingEmptySubsequences: false)[0]
                .trimmingCharacters(in: " \t\r")
            if line.isEmpty { continue }
            guard let network = Network(line) else {
                throw ConfigError(file: file, line: index + 1, "not an IPv4 or IPv6 address or CIDR network: \(DisplayEscaping.escaped(line))")
            }
            networks.append(network)
        }
        return Allowlist(networks: networks)
    }

    public static func load(path: String) throws -> Allowlist {
        let bytes = try readFile(path)
        guard let text = String(validating: bytes, as: UTF8.self) else { throw ConfigError(file: path, "the allowlist is not UTF-8 text") }
        return try parse(text, file: path)
    }

    public func allows(_ address: SocketAddress?) -> Bool {
        guard let endpoint = Endpoint(address) else { return false }
        return allows(endpoint.address)
    }

    public func allows(_ bytes: [UInt8]) -> Bool {
        let address = Network.unmapped(bytes)
        return networks.contains { $0.contains(address) }
    }
}

extension Allowlist.Network {
    init?(_ text: String) {
        let parts = text.split(separator: "/", maxSplits: 1, omittingEmptySubsequences: false)
        guard let address = Self.parseAddress(String(parts[0])) else { return nil }
        let maximum = address.count * 8
        var prefix = maximum
        if parts.count == 2 {
            guard let value = Int(parts[1]), value >= 0, value <= maximum, parts[1].allSatisfy(\.isASCII) else { return nil }
            prefix = value
        }
        var unmapped = Self.unmapped(address)
        if unmapped.count == 4 && address.count == 16 { prefix = max(0, prefix - 96) }
        for bit in prefix..<(unmapped.count * 8) { unmapped[bit / 8] &= ~(0x80 >> UInt8(bit % 8)) }
        self.init(address: unmapped, prefix: prefix)
    }

    func contains(_ candidate: [UInt8]) -> Bool {
        guard candidate.count == address.count else { return false }
        var remaining = prefix
        for index in 0..<address.count where remaining > 0 {
            let bits = min(8, remaining)
            let mask = UInt8(truncatingIfNeeded: 0xFF << (8 - bits))
            if candidate[index] & mask != address[index] { return false }
            remaining -= bits
        }
        return true
    }

    /// ::ffff:a.b.c.d as a.b.c.d.
    static func unmapped(_ bytes: [UInt8]) -> [UInt8] {
        if bytes.count == 16 && bytes[0..<10].allSatisfy({ $0 == 0 }) && bytes[10] == 0xFF && bytes[11] == 0xFF {
            return Array(bytes[12..<16])
        }
        return bytes
    }

    static func parseAddress(_ text: String) -> [UInt8]? {
        var v4 = in_addr()
        if inet_pton(AF_INET, text, &v4) == 1 { return withUnsafeBytes(of: &v4) { Array($0) } }
        var v6 = in6_addr()
        if inet_pton(AF_INET6, text, &v6) == 1 { return withUnsafeBytes(of: &v6) { Array($0) } }
        return nil
    }
}

extension Substring {
    func trimmingCharacters(in set: String) -> String {
        let characters = Set(set)
        return String(drop { characters.contains($0) }.reversed().drop { characters.contains($0) }.reversed())
    }
}
