/// What deploy installs on a host.
public enum FirewallTarget: String, Sendable, CaseIterable, Codable {
    case iptables, ufw, nftables
}

/// What happens to inbound traffic no rule allows.
public enum DefaultAction: String, Sendable, CaseIterable, Codable {
    case drop, reject, accept
}

/// The protocol a rule matches.
public enum RuleProtocol: String, Sendable, CaseIterable, Codable {
    case tcp, udp, icmp, any
}

/// A named set of addresses of one family, used instead of one rule per address when a rule's sources are many
/// (an nftables set; for iptables an ipset restored beside the rules).
public struct AddressSet: Hashable, Sendable {
    public var name: String
    public var family: IPNetwork.Family
    public var members: [IPNetwork]
}

/// One inbound rule of one address family.
public struct FirewallRule: Hashable, Sendable {
    public enum Kind: String, Sendable {
        /// SSH from the management sources; always the first rule.
        case management
        /// Traffic on the loopback interface.
        case loopback
        /// Replies and related traffic of connections already allowed.
        case established
        /// ICMPv6 neighbour discovery, without which IPv6 stops working.
        case neighbourDiscovery
        /// A rule from the policy's `allow` list.
        case allow
    }

    public enum Sources: Hashable, Sendable {
        case any
        case networks([IPNetwork])
        case set(AddressSet)

        /// How many source addresses or networks the rule matches (0 = any).
        public var count: Int {
            switch self {
            case .any: return 0
            case .networks(let networks): return networks.count
            case .set(let set): return set.members.count
            }
        }
    }

    public var kind: Kind
    public var family: IPNetwork.Family
    public var proto: RuleProtocol
    /// Destination ports; empty means all ports. At most 15 multiport slots (see `PortRange.normalisedGroups`).
    public var ports: [PortRange]
    public var sources: Sources
    public var interface: String?
    public var comment: String?
}

/// The compiled firewall of one host: every rule typed and validated, split by family.
public struct HostFirewall: Sendable {
    public var host: String
    public var target: FirewallTarget
    public var defaultAction: DefaultAction
    /// The port deploy connects to and the management rule opens (`ansible_port`, or 22).
    public var sshPort: UInt16
    /// The host's own addresses (`ansible_host` and `fw_addresses`).
    public var addresses: [IPNetwork]
    public var rules: [FirewallRule]
    public var sets: [AddressSet]
    /// Warnings about the host that do not stop it (`PolicyError.Kind.warning`).
    public var notes: [PolicyError] = []

    public func rules(_ family: IPNetwork.Family) -> [FirewallRule] { rules.filter { $0.family == family } }
    public func sets(_ family: IPNetwork.Family) -> [AddressSet] { sets.filter { $0.family == family } }
}
