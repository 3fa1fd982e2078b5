import FWInventory
import FWTemplate

/// A host's firewall policy as written in the inventory, gathered over all its groups and the host itself, type
/// checked but not yet resolved to addresses.
///
/// Contract (fixed; extend, do not rename): a `firewall` var on any group or host with `target`, `default`
/// (scalars: the highest-precedence scope that sets one wins), `management` and `allow` (lists: accumulate over all
/// the host's groups, lowest precedence first, then the host).
public struct HostPolicy: Sendable {
    public struct Origin: Sendable, Hashable, CustomStringConvertible {
        /// The group or host the entry came from.
        public var scope: String
        public var location: FileLocation?
        /// `firewall.allow[2]`
        public var path: String

        public var description: String {
            (location.map { "\($0): " } ?? "") + "\(scope) \(path)"
        }
    }

    public struct SourceEntry: Sendable, Hashable {
        /// A group, a host, an address, a CIDR, or `any`.
        public var text: String
        public var origin: Origin
    }

    public struct AllowEntry: Sendable, Hashable {
        public var from: [SourceEntry]
        public var proto: RuleProtocol
        public var ports: [PortRange]
        public var interface: String?
        public var comment: String?
        public var origin: Origin
    }

    public var host: String
    /// False when no scope of the host has a `firewall` var: fwctl leaves such hosts alone.
    public var isManaged: Bool
    public var target: FirewallTarget
    public var defaultAction: DefaultAction
    public var management: [SourceEntry]
    public var allow: [AllowEntry]
}

/// Reads the `firewall` var of every scope of a host into a `HostPolicy`, collecting every problem.
enum HostPolicyReader {
    static let firewallKeys = ["target", "default", "management", "allow"]
    static let allowKeys = ["from", "proto", "ports", "interface", "comment"]
    /// Longest comment accepted: nftables allows 128 bytes, iptables 256.
    static let maxCommentBytes = 128

    static func read(_ vars: HostVars, errors: inout [PolicyError]) -> HostPolicy {
        var policy = HostPolicy(host: vars.host, isManaged: false, target: .iptables, defaultAction: .drop,
                                management: [], allow: [])
        for scope in vars.scopes {
            guard let firewall = scope.vars["firewall"], !firewall.isNull else { continue }
            let scopeName = "\(scope.owner)"
            let location = scope.location(of: "firewall")
            func fail(_ path: String, _ message: String, hint: String? = nil) {
                errors.append(PolicyError(host: vars.host, location: location, path: path, scope: scopeName,
                                          message: message, hint: hint))
            }
            guard let table = firewall.dictValue else {
                fail("firewall", "must be a mapping with target, default, management and allow, not \(firewall.kindDescription)")
                continue
            }
            policy.isManaged = true
            for key in table.keys.sorted() where !firewallKeys.contains(key) {
                fail("firewall.\(key)", "unknown key", hint: "known keys: \(firewallKeys.joined(separator: ", "))")
            }
            if let value = table["target"] {
                if let text = value.stringValue, let target = FirewallTarget(rawValue: text) {
                    policy.target = target
                } else {
                    fail("firewall.target", "must be one of iptables, ufw, nftables, not \(value)")
                }
            }
            if let value = table["default"] {
                if let text = value.stringValue, let action = DefaultAction(rawValue: text) {
                    policy.defaultAction = action
                } else {
                    fail("firewall.default", "must be one of drop, reject, accept, not \(value)")
                }
            }
            if let value = table["management"] {
                let origin = HostPolicy.Origin(scope: scopeName, location: location, path: "firewall.management")
                if let entries = sourceList(value, origin: origin, fail: fail) { policy.management += entries }
            }
            if let value = table["allow"] {
                guard let list = value.listValue else {
                    fail("firewall.allow", "must be a list of rules, not \(value.kindDescription)")
                    continue
                }
                for (index, item) in list.enumerated() {
                    let origin = HostPolicy.Origin(scope: scopeName, location: location, path: "firewall.allow[\(index)]")
                    if let entry = allowEntry(item, origin: origin, fail: fail) { policy.allow.append(entry) }
                }
            }
        }
        return policy
    }

    static func sourceList(
        _ value: InventoryValue, origin: HostPolicy.Origin, fail: (String, String, String?) -> Void
    ) -> [HostPolicy.SourceEntry]? {
        let items: [InventoryValue]
        switch value {
        case .string, .unsafe: items = [value]
        case .list(let list): items = list
        default:
            fail(origin.path, "must be a list of groups, hosts, addresses or networks, not \(value.kindDescription)", nil)
            return nil
        }
        var entries: [HostPolicy.SourceEntry] = []
        for (index, item) in items.enumerated() {
            guard let text = item.stringValue, !text.isEmpty else {
                fail("\(origin.path)[\(index)]", "must be a group, host, address or network name, not \(item)", nil)
                continue
            }
            var itemOrigin = origin
            itemOrigin.path = "\(origin.path)[\(index)]"
            entries.append(.init(text: text, origin: itemOrigin))
        }
        return entries
    }

    private static func allowEntry(
        _ item: InventoryValue, origin: HostPolicy.Origin, fail: (String, String, String?) -> Void
    ) -> HostPolicy.AllowEntry? {
        let path = origin.path
        guard let table = item.dictValue else {
            fail(path, "must be a mapping with from, proto, ports, interface, comment; not \(item.kindDescription)", nil)
            return nil
        }
        var ok = true
        for key in table.keys.sorted() where !allowKeys.contains(key) {
            fail("\(path).\(key)", "unknown key", "known keys: \(allowKeys.joined(separator: ", "))")
            ok = false
        }
        guard let fromValue = table["from"] else {
            fail(path, "has no 'from'", "say who may connect: a group, host, address, network, or any")
            return nil
        }
        var fromOrigin = origin
        fromOrigin.path = "\(path).from"
        guard let from = sourceList(fromValue, origin: fromOrigin, fail: fail) else { return nil }
        guard !from.isEmpty else {
            // An empty list would make a rule that allows no one: say so rather than drop the rule.
            fail("\(path).from", "is empty, so the rule would allow no one",
                 "name who may connect (a group, host, address, network, or any), or remove the rule")
            return nil
        }

        var ports: [PortRange] = []
        if let portsValue = table["ports"] {
            let items: [InventoryValue] = portsValue.listValue ?? [portsValue]
            if items.isEmpty { fail("\(path).ports", "is empty; leave it out to allow all ports", nil); ok = false }
            for (index, portItem) in items.enumerated() {
                let range: PortRange?
                switch portItem {
                case .int(let port): range = PortRange(low: port, high: port)
                case .string(let text), .unsafe(let text): range = PortRange(parsing: text)
                default: range = nil
                }
                if let range {
                    ports.append(range)
                } else {
                    fail("\(path).ports[\(index)]", "\(portItem) is not a port (1-65535) or a range like \"8000:8100\"", nil)
                    ok = false
                }
            }
        }

        var proto: RuleProtocol = ports.isEmpty ? .any : .tcp
        if let protoValue = table["proto"] {
            if let text = protoValue.stringValue, let parsed = RuleProtocol(rawValue: text) {
                proto = parsed
            } else {
                fail("\(path).proto", "must be one of tcp, udp, icmp, any, not \(protoValue)", nil)
                ok = false
            }
        }
        if proto == .icmp && !ports.isEmpty {
            fail("\(path).ports", "icmp has no ports", "remove ports, or use proto tcp or udp")
            ok = false
        }

        var interface: String?
        if let value = table["interface"] {
            if let text = value.stringValue, isInterfaceName(text) {
                interface = text
            } else {
                fail("\(path).interface", "\(value) is not a network interface name",
                     "use 1 to 15 letters, digits, '_', '.', '-'")
                ok = false
            }
        }

        var comment: String?
        if let value = table["comment"] {
            if let text = value.stringValue, let problem = commentProblem(text) {
                fail("\(path).comment", problem, "use letters, digits, spaces and \(RuleSafety.allowedPunctuation.dropFirst().map(String.init).joined(separator: " ")) only")
                ok = false
            } else if let text = value.stringValue {
                comment = text.isEmpty ? nil : text
            } else {
                fail("\(path).comment", "must be a string, not \(value.kindDescription)", nil)
                ok = false
            }
        }
        guard ok else { return nil }
        return .init(from: from, proto: proto, ports: ports, interface: interface, comment: comment, origin: origin)
    }

    /// Linux interface names: 1-15 bytes; restricted here to characters no rule syntax gives a meaning.
    static func isInterfaceName(_ text: String) -> Bool {
        let bytes = Array(text.utf8)
        guard (1...15).contains(bytes.count), text != ".", text != ".." else { return false }
        return bytes.allSatisfy { ($0 >= 0x30 && $0 <= 0x39) || ($0 >= 0x41 && $0 <= 0x5A) || ($0 >= 0x61 && $0 <= 0x7A)
            || $0 == 0x5F || $0 == 0x2E || $0 == 0x2D }
    }

    /// Why a comment cannot go into a rule file, or nil when it can: the template engine's rule-safe set, checked
    /// here already so the message can name the inventory entry rather than a template line.
    static func commentProblem(_ text: String) -> String? {
        if text.utf8.count > maxCommentBytes { return "is longer than \(maxCommentBytes) bytes" }
        guard let unsafe = RuleSafety.firstUnsafeCharacter(in: text) else { return nil }
        return "contains \(unsafe.description), which cannot appear in a rule file"
    }
}
