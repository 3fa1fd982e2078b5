/// What the compiled rules let in, evaluated directly on `HostFirewall.rules`: the same list every template renders
/// from, so a lab probe can compare what the kernel did with what the policy says without a second model of it.
extension HostFirewall {
    /// Whether a new inbound connection (the first packet, not a reply) from `source` to `port` over `proto`,
    /// arriving on `interface`, is accepted: the first accepting rule wins, else the default action decides.
    /// Replies (`established`) never match a first packet; `loopback` matches only on `lo`.
    public func admits(source: IPNetwork, protocol proto: RuleProtocol, port: UInt16, interface: String) -> Bool {
        for rule in rules where rule.family == source.family && rule.admits(source: source, protocol: proto, port: port, interface: interface) {
            return true
        }
        return defaultAction == .accept
    }
}

extension FirewallRule {
    /// Whether this one rule accepts the first packet of such a connection.
    public func admits(source: IPNetwork, protocol packetProtocol: RuleProtocol, port: UInt16, interface packetInterface: String) -> Bool {
        switch kind {
        case .established: return false
        case .loopback: return packetInterface == "lo"
        case .neighbourDiscovery: return false  // ICMPv6 types 133-136 only; never a TCP or UDP connection
        case .management, .allow: break
        }
        guard family == source.family else { return false }
        if let interface, interface != packetInterface { return false }
        if proto != .any && proto != packetProtocol { return false }
        if !ports.isEmpty && !ports.contains(where: { $0.low <= port && port <= $0.high }) { return false }
        switch sources {
        case .any: return true
        case .networks(let networks): return networks.contains { $0.contains(source) }
        case .set(let set): return set.members.contains { $0.contains(source) }
        }
    }
}

extension IPNetwork {
    /// True when `other` (an address or a network) lies wholly inside this network.
    public func contains(_ other: IPNetwork) -> Bool {
        switch (self, other) {
        case let (.v4(network, prefix), .v4(address, otherPrefix)):
            guard otherPrefix >= prefix else { return false }
            if prefix == 0 { return true }
            return network >> (32 - UInt32(prefix)) == address >> (32 - UInt32(prefix))
        case let (.v6(network, prefix), .v6(address, otherPrefix)):
            guard otherPrefix >= prefix else { return false }
            if prefix == 0 { return true }
            return network >> (128 - UInt128(prefix)) == address >> (128 - UInt128(prefix))
        default:
            return false
        }
    }
}
