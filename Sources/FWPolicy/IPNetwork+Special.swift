/// Addresses with a meaning of their own: IPv4-mapped IPv6 addresses, which are IPv4 on the wire, and addresses no
/// operator can ever connect from.
extension IPNetwork {
    /// An IPv4-mapped IPv6 network (`::ffff:192.0.2.10`, `::ffff:0:0/96`) as the IPv4 network it stands for: a
    /// socket connecting to one speaks IPv4, and packets from it carry the IPv4 source. Others are unchanged.
    public var unmappingIPv4: IPNetwork {
        guard case .v6(let address, let prefix) = self, prefix >= 96, address >> 32 == 0xFFFF else { return self }
        return .v4(address: UInt32(truncatingIfNeeded: address), prefix: prefix - 96)
    }

    /// Addresses no SSH connection can ever come from, each with the reason: loopback (only the host itself), the
    /// unspecified address and "this network" (never a packet's source), broadcast, multicast.
    static let unusableSources: [(network: IPNetwork, reason: String)] = [
        (.v4(address: 0, prefix: 32), "the unspecified address 0.0.0.0"),
        (.v4(address: 0, prefix: 8), "0.0.0.0/8, never a packet's source"),
        (.v4(address: 0x7F00_0000, prefix: 8), "loopback: only the host itself"),
        (.v4(address: 0xE000_0000, prefix: 4), "multicast"),
        (.v4(address: .max, prefix: 32), "the broadcast address"),
        (.v6(address: 0, prefix: 128), "the unspecified address ::"),
        (.v6(address: 1, prefix: 128), "loopback: only the host itself"),
        (.v6(address: UInt128(0xFF) << 120, prefix: 8), "multicast"),
    ]

    /// Why no SSH connection can ever come from anywhere in this network (each reason once, in address order), or
    /// nil when one can: nil as soon as one address of it is usable. `alsoUnusable` adds addresses of the caller's (the host's own), with their reason.
    /// A network is judged by what it covers, never by its spelling: `[::, ::1]` merged into `::/127` is still
    /// only the unspecified address and loopback.
    public func unusableSourceReasons(alsoUnusable: [(network: IPNetwork, reason: String)] = []) -> [String]? {
        let (low, high) = range
        var covering: [(low: UInt128, high: UInt128, reason: String)] = []
        for source in Self.unusableSources + alsoUnusable where source.network.family == family {
            let (coverLow, coverHigh) = source.network.range
            if coverLow <= high && low <= coverHigh { covering.append((coverLow, coverHigh, source.reason)) }
        }
        covering.sort { $0.low != $1.low ? $0.low < $1.low : $0.high < $1.high }
        // Walk the covering ranges from the network's first address: a gap is a usable address.
        var next = low
        var reasons: [String] = []
        for cover in covering {
            if cover.low > next { return nil }
            if cover.high >= next {
                if !reasons.contains(cover.reason) { reasons.append(cover.reason) }
                if cover.high >= high { return reasons }
                next = cover.high + 1
            }
        }
        return nil
    }
}
