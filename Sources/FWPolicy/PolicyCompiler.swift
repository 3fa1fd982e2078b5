import FWInventory

/// Turns a host's policy into its typed, validated rule list, split by family.
public struct PolicyCompiler: Sendable {
    /// Beyond this many source addresses of one family, a rule matches a named set instead of one rule per address
    /// (nftables set; ipset for iptables; UFW cannot reference sets and always gets one rule per address).
    public var setThreshold: Int
    /// What `firewall.target` is replaced with (`render --target`), if anything.
    public var forcedTarget: FirewallTarget?

    /// ICMPv6 types IPv6 needs to find neighbours and routers (router and neighbour solicitation/advertisement).
    public static let neighbourDiscoveryTypes: [(type: Int, name: String)] = [
        (133, "nd-router-solicit"), (134, "nd-router-advert"), (135, "nd-neighbor-solicit"), (136, "nd-neighbor-advert"),
    ]

    public init(setThreshold: Int = 16, forcedTarget: FirewallTarget? = nil) {
        self.setThreshold = setThreshold
        self.forcedTarget = forcedTarget
    }

    /// Compiles one host. Returns nil for a host without any `firewall` var (fwctl leaves it alone).
    public func compile(host: String, inventory: Inventory, addressBook: AddressBook) throws(PolicyErrors) -> HostFirewall? {
        guard let vars = inventory.vars(of: host) else {
            throw PolicyErrors([PolicyError(host: host, message: "no such host in the inventory")])
        }
        var errors: [PolicyError] = []
        var policy = HostPolicyReader.read(vars, errors: &errors)
        guard policy.isManaged else {
            if !errors.isEmpty { throw PolicyErrors(errors) }
            return nil
        }
        if let forcedTarget { policy.target = forcedTarget }

        var sshPort: UInt16 = 22
        var ownAddresses: [IPNetwork] = []
        do {
            let connection = try inventory.connection(of: host)
            sshPort = UInt16(connection.effectivePort)
        } catch {
            errors.append(PolicyError(host: host, message: "\(error)"))
        }
        do {
            ownAddresses = try addressBook.addresses(ofHost: host)
        } catch {
            errors.append(error)
        }

        let useSets = policy.target != .ufw
        var builder = RuleListBuilder(host: host, target: policy.target, setThreshold: useSets ? setThreshold : Int.max)

        // Management first: SSH from the management sources.
        let management = resolve(policy.management, host: host, book: addressBook, errors: &errors)
        for family in IPNetwork.Family.allCases {
            builder.add(kind: .management, family: family, proto: .tcp, ports: [PortRange(low: Int(sshPort), high: Int(sshPort))!],
                        sources: management, setLabel: "mgmt", interface: nil, comment: "fwctl management",
                        origin: "firewall.management")
            builder.addFixed(.loopback, family: family)
            builder.addFixed(.established, family: family)
            if family == .v6 { builder.addFixed(.neighbourDiscovery, family: .v6) }
        }
        for entry in policy.allow {
            let sources = resolve(entry.from, host: host, book: addressBook, errors: &errors)
            let protocols: [RuleProtocol] = entry.proto == .any && !entry.ports.isEmpty ? [.tcp, .udp] : [entry.proto]
            let portGroups = entry.ports.isEmpty ? [[]] : PortRange.normalisedGroups(entry.ports)
            let label = entry.from.count == 1 ? entry.from[0].text : nil
            for family in IPNetwork.Family.allCases {
                for proto in protocols {
                    for ports in portGroups {
                        builder.add(kind: .allow, family: family, proto: proto, ports: ports, sources: sources,
                                    setLabel: label, interface: entry.interface, comment: entry.comment,
                                    origin: "\(entry.origin)")
                    }
                }
            }
        }

        let firewall = HostFirewall(host: host, target: policy.target, defaultAction: policy.defaultAction,
                                    sshPort: sshPort, addresses: ownAddresses, rules: builder.rules, sets: builder.sets)
        if errors.isEmpty, let lockout = LockoutCheck.problem(in: firewall, managementEntries: policy.management) {
            errors.append(lockout)
        }
        guard errors.isEmpty else { throw PolicyErrors(errors) }
        return firewall
    }

    /// Resolves `from`/`management` entries to networks of both families (`nil` per family means any source).
    private func resolve(_ entries: [HostPolicy.SourceEntry], host: String, book: AddressBook,
                         errors: inout [PolicyError]) -> ResolvedSources {
        var resolved = ResolvedSources()
        for entry in entries {
            let text = entry.text
            func fail(_ message: String, hint: String? = nil) {
                errors.append(PolicyError(host: host, location: entry.origin.location, path: entry.origin.path,
                                          scope: entry.origin.scope, message: message, hint: hint))
            }
            if text == "any" {
                resolved.any = true
            } else if IPNetwork.looksLikeAddress(text) {
                do {
                    resolved.add([try IPNetwork(parsing: text)])
                } catch {
                    fail(error.description)
                }
            } else if book.isGroup(text) && book.isHost(text) {
                fail("'\(text)' is both a group and a host", hint: "rename one of them")
            } else if let members = book.members(ofGroup: text) {
                guard !members.isEmpty else {
                    fail("group '\(text)' has no hosts, so the rule would match nothing", hint: "add hosts to it or remove the reference")
                    continue
                }
                for member in members {
                    do {
                        resolved.add(try book.addresses(ofHost: member))
                    } catch {
                        fail("group '\(text)' includes host '\(member)', whose address is unusable: \(error)")
                    }
                }
            } else if book.isHost(text) {
                do {
                    resolved.add(try book.addresses(ofHost: text))
                } catch {
                    fail("host '\(text)' has no usable address: \(error)")
                }
            } else {
                fail("'\(text)' is not a group, a host, an address or a network in the inventory",
                     hint: "check the spelling; `fwctl inventory --graph` lists groups and hosts")
            }
        }
        return resolved
    }
}

/// Sources resolved to addresses, per family, without duplicates, in first-seen order.
struct ResolvedSources {
    var any = false
    private(set) var v4: [IPNetwork] = []
    private(set) var v6: [IPNetwork] = []
    private var seen = Set<IPNetwork>()

    mutating func add(_ networks: [IPNetwork]) {
        for network in networks where seen.insert(network).inserted {
            if network.family == .v4 { v4.append(network) } else { v6.append(network) }
        }
    }

    func networks(_ family: IPNetwork.Family) -> [IPNetwork] { family == .v4 ? v4 : v6 }
}

/// Accumulates a host's rules, turning large source lists into named sets and dropping exact duplicates.
struct RuleListBuilder {
    let host: String
    let target: FirewallTarget
    let setThreshold: Int
    private(set) var rules: [FirewallRule] = []
    private(set) var sets: [AddressSet] = []
    private var seenRules = Set<FirewallRule>()

    init(host: String, target: FirewallTarget, setThreshold: Int) {
        self.host = host
        self.target = target
        self.setThreshold = setThreshold
    }

    mutating func addFixed(_ kind: FirewallRule.Kind, family: IPNetwork.Family) {
        append(FirewallRule(kind: kind, family: family, proto: kind == .neighbourDiscovery ? .icmp : .any, ports: [],
                            sources: .any, interface: nil, comment: nil, origin: "fwctl"))
    }

    mutating func add(kind: FirewallRule.Kind, family: IPNetwork.Family, proto: RuleProtocol, ports: [PortRange],
                      sources resolved: ResolvedSources, setLabel: String?, interface: String?, comment: String?,
                      origin: String) {
        let sources: FirewallRule.Sources
        if resolved.any {
            sources = .any
        } else {
            let networks = resolved.networks(family).sorted()
            guard !networks.isEmpty else { return }  // nothing of this family to allow
            if networks.count > setThreshold {
                sources = .set(namedSet(family: family, members: networks, label: setLabel))
            } else {
                sources = .networks(networks)
            }
        }
        append(FirewallRule(kind: kind, family: family, proto: proto, ports: ports, sources: sources,
                            interface: interface, comment: comment, origin: origin))
    }

    private mutating func append(_ rule: FirewallRule) {
        if seenRules.insert(rule).inserted { rules.append(rule) }
    }

    /// A set named after the group it holds when that name is short and plain, otherwise after a hash of its
    /// members; the same members always give the same set, so rules share it.
    private mutating func namedSet(family: IPNetwork.Family, members: [IPNetwork], label: String?) -> AddressSet {
        if let existing = sets.first(where: { $0.family == family && $0.members == members }) { return existing }
        let suffix = family == .v4 ? "v4" : "v6"
        var name: String
        if let label, label.utf8.count <= 16, label.utf8.allSatisfy({ ($0 >= 0x30 && $0 <= 0x39) || ($0 >= 0x41 && $0 <= 0x5A) || ($0 >= 0x61 && $0 <= 0x7A) || $0 == 0x5F }) {
            name = "fw_\(label)_\(suffix)"
        } else {
            name = "fw_\(Self.fingerprint(members))_\(suffix)"
        }
        // Two different member lists under one label (e.g. a group's addresses and a wider list) stay apart.
        if sets.contains(where: { $0.name == name }) { name = "fw_\(Self.fingerprint(members))_\(suffix)" }
        let set = AddressSet(name: name, family: family, members: members)
        sets.append(set)
        return set
    }

    /// FNV-1a over the members' text: stable across runs and machines, unlike Swift's seeded hashing.
    static func fingerprint(_ members: [IPNetwork]) -> String {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for member in members {
            for byte in member.cidrText.utf8 {
                hash = (hash ^ UInt64(byte)) &* 0x100_0000_01b3
            }
            hash = (hash ^ 0x2C) &* 0x100_0000_01b3
        }
        let hex = String(hash, radix: 16)
        return String(repeating: "0", count: 16 - hex.count) + hex
    }
}
