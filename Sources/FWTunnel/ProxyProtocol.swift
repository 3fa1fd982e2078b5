/// The PROXY protocol version 2 header (haproxy's proxy-protocol.txt, section 2.2) that work sends to a service
/// before the client's bytes, so the service sees the real client address instead of work's.
public enum ProxyProtocolV2 {
    public static let signature: [UInt8] = [0x0D, 0x0A, 0x0D, 0x0A, 0x00, 0x0D, 0x0A, 0x51, 0x55, 0x49, 0x54, 0x0A]

    /// PROXY command over TCP from `source` (the client) to `destination` (the address it connected to on home).
    public static func header(source: Endpoint, destination: Endpoint) -> [UInt8] {
        var from = source.address, to = destination.address
        if from.count != to.count {
            from = mapped(from)
            to = mapped(to)
        }
        var header = signature
        header.append(0x21)  // version 2, command PROXY
        header.append(from.count == 4 ? 0x11 : 0x21)  // TCP over IPv4 or IPv6
        let length = from.count * 2 + 4
        header += [UInt8(length >> 8), UInt8(length & 0xFF)]
        header += from + to
        header += [UInt8(source.port >> 8), UInt8(source.port & 0xFF), UInt8(destination.port >> 8), UInt8(destination.port & 0xFF)]
        return header
    }

    /// An IPv4 address as IPv4-mapped IPv6 (::ffff:a.b.c.d); IPv6 as it is.
    static func mapped(_ address: [UInt8]) -> [UInt8] {
        address.count == 16 ? address : [UInt8](repeating: 0, count: 10) + [0xFF, 0xFF] + address
    }
}
