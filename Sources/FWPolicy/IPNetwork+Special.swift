/// Addresses with a meaning of their own: IPv4-mapped IPv6 addresses, which are IPv4 on the wire, and addresses no
/// operator can ever connect from.
extension IPNetwork {
    /// An IPv4-mapped IPv6 network (`::ffff:192.0.2.10`, `::ffff:0:0/96`) as the IPv4 network it stands for: a
    /// socket connecting to one speaks IPv4, and packets from it carry the IPv4 source. Others are unchanged.
    public var unmappingIPv4: IPNetwork {
        guard case .v6(let address, let prefix) = self, prefix >= 96, address >> 32 == 0xFFFF else { return self }
        return .v4(address: UInt32(truncatingIfNeeded: address), prefix: prefix - 96)
    }

    /// Why no SSH connection can ever come from anywhere in this network, or nil when one can: loopback (only the
    /// host itself), the unspecified address, broadcast, multicast.
    public var unusableSourceReason: String? {
        let (low, high) = range
        func within(_ network: IPNetwork) -> Bool {
            let (l, h) = network.range
            return network.family == family && l <= low && high <= h
        }
        switch family {
        case .v4:
            if within(.v4(address: 0x7F00_0000, prefix: 8)) { return "loopback: only the host itself" }
            if self == .v4(address: 0, prefix: 32) { return "the unspecified address 0.0.0.0" }
            if self == .v4(address: .max, prefix: 32) { return "the broadcast address" }
            if within(.v4(address: 0xE000_0000, prefix: 4)) { return "multicast" }
        case .v6:
            if self == .v6(address: 1, prefix: 128) { return "loopback: only the host itself" }
            if self == .v6(address: 0, prefix: 128) { return "the unspecified address ::" }
            if within(.v6(address: UInt128(0xFF) << 120, prefix: 8)) { return "multicast" }
        }
        return nil
    }
}
