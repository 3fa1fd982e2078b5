import FWInventory

/// Turns a host's policy into its typed, validated rule list, split by family.
public struct PolicyCompiler: Sendable {
    /// Beyond this many source addresses of one family, a rule matches a named set instead of one rule per address
    /// (nftables set; ipset for iptables; UFW cannot reference sets and always gets one rule per address).
    public var setThreshold: Int
    /// What `firewall.target` is replaced with (`render --target`), if anything.
    public var forcedTarget: FirewallTarget?

    /// ICMPv6 types IPv6 needs to find neighbours and routers: router solicitation and advertisement, neighbour
    /// solicitation and advertisement (RFC 4861).
    public static let neighbourDiscoveryTypes = [133, 134, 135, 136]

    public init(setThreshold: Int = 16, forcedTarget: FirewallTarget? = nil) {
        self.setThreshold = setThreshold
        self.forcedTarget = forcedTarget
    }

    /// Compiles one host. Returns nil for a host without any `firewall` var (fwctl leaves it alone).
    public func compile(host: String, addressBook: AddressBook) throws(PolicyErrors) -> HostFirewall? {
        guard let vars = addressBook.vars(ofHost: host) else {
            throw PolicyErrors([PolicyError(host: host, message: "no such host in the inventory")])
        }
        var errors: [PolicyError] = []
        var policy = HostPolicyReader.read(vars, errors: &errors)
        // The tunnels lists are the fleet's; each host reports the problems of the entries in its own scopes.
        let tunnels = addressBook.tunnelCatalog
        errors += tunnels.problems(of: vars)
        guard policy.isManaged else {
            if !errors.isEmpty { throw PolicyErrors(errors) }
            return nil
        }
        if let forcedTarget { policy.target = forcedTarget }
        // The rule render applies to the host's output folder, here, so check refuses what render would.
        if let problem = OutputTree.folderNameProblem(host) {
            errors.append(PolicyError(host: host, path: "inventory name",
                                      message: "the host name \(problem), and it names the host's output folder",
                                      hint: "rename the host, keeping its address in ansible_host"))
        }

        var sshPort: UInt16 = 22
        var ownAddresses: [IPNetwork] = []
        do {
            sshPort = try addressBook.sshPort(ofHost: host)
        } catch {
            errors.append(error)
        }
        do {
            ownAddresses = try addressBook.addresses(ofHost: host)
        } catch {
            errors.append(error)
        }

        let useSets = policy.target != .ufw
        var builder = RuleListBuilder(setThreshold: useSets ? setThreshold : Int.max)

        // Management first: SSH from the management sources.
        let management = Self.resolve(policy.management, host: host, book: addressBook, errors: &errors)
        for family in IPNetwork.Family.allCases {
            builder.add(kind: .management, family: family, proto: .tcp, ports: [PortRange(low: Int(sshPort), high: Int(sshPort))!],
                        sources: management, setLabel: "mgmt", interface: nil, comment: "fwctl management")
            builder.addFixed(.loopback, family: family)
            builder.addFixed(.established, family: family)
            if family == .v6 { builder.addFixed(.neighbourDiscovery, family: .v6) }
        }
        var notes: [PolicyError] = []
        var resolvedEntries: [(HostPolicy.AllowEntry, ResolvedSources)] = []
        for entry in policy.allow {
            if entry.proto == .icmp && policy.target == .ufw {
                // ufw has no ICMP rules of its own in user.rules: before.rules decides. Say so, never drop silently.
                notes.append(PolicyError(
                    .warning, host: host, location: entry.origin.location, path: entry.origin.path, scope: entry.origin.scope,
                    message: "ufw governs ICMP itself in /etc/ufw/before.rules and before6.rules (echo requests are "
                        + "allowed from anywhere by default), so this icmp rule is not written to user.rules",
                    hint: "edit ufw's before.rules to change ICMP, or use target iptables or nftables"))
                continue
            }
            let sources = Self.resolve(entry.from, host: host, book: addressBook, errors: &errors)
            resolvedEntries.append((entry, sources))
            let protocols: [RuleProtocol] = entry.proto == .any && !entry.ports.isEmpty ? [.tcp, .udp] : [entry.proto]
            let portGroups = entry.ports.isEmpty ? [[]] : PortRange.normalisedGroups(entry.ports)
            let label = entry.from.count == 1 ? entry.from[0].text : nil
            for family in IPNetwork.Family.allCases {
                for proto in protocols {
                    for ports in portGroups {
                        builder.add(kind: .allow, family: family, proto: proto, ports: ports, sources: sources,
                                    setLabel: label, interface: entry.interface, comment: entry.comment)
                    }
                }
            }
        }

        let homeTunnels = tunnels.tunnels(home: host)
        TunnelFirewall.addRules(for: homeTunnels, to: &builder)
        errors += TunnelFirewall.homeProblems(host: host, defaultAction: policy.defaultAction, entries: resolvedEntries, tunnels: homeTunnels)
        notes += TunnelFirewall.workNotes(host: host, entries: policy.allow, tunnels: tunnels.tunnels(work: host))

        var firewall = HostFirewall(host: host, target: policy.target, defaultAction: policy.defaultAction,
                                    sshPort: sshPort, addresses: ownAddresses, rules: builder.rules, sets: builder.sets,
                                    notes: notes)
        if firewall.target == .iptables, let big = firewall.sets.first(where: { $0.members.count > Self.ipsetCapacity }) {
            // ipset's hash:net holds 65,536 entries unless created bigger, and a set that exists keeps the size it
            // was created with (`create -exist` with another size fails): refused here, not at the host's restore.
            errors.append(PolicyError(host: host, path: "firewall.allow",
                                      message: "set \(big.name) would hold \(big.members.count) networks; an ipset holds at most \(Self.ipsetCapacity)",
                                      hint: "use fewer, wider networks (CIDRs) in the rules' sources, or target nftables"))
        }
        if errors.isEmpty {
            // Each management entry on its own, to name the useless ones (cached like every list: once per run).
            var ignored: [PolicyError] = []
            let entries = policy.management.map { ($0, Self.resolve([$0], host: host, book: addressBook, errors: &ignored)) }
            firewall.notes += LockoutCheck.uselessManagementEntries(entries, host: firewall)
            if let lockout = LockoutCheck.problem(in: firewall, managementEntries: policy.management) {
                errors.append(lockout)
            }
        }
        if errors.isEmpty {
            errors += JumpPathCheck.problems(in: firewall, jumps: addressBook.jumpHosts[host] ?? [], book: addressBook)
        }
        guard errors.isEmpty else { throw PolicyErrors(errors) }
        return firewall
    }

    /// The entries an ipset of type hash:net holds by default (its maxelem).
    static let ipsetCapacity = 65_536

    /// Resolves `from`/`management` entries to networks of both families. Hosts of one group share their source
    /// lists, so a list that resolved without problems is kept for the next host.
    static func resolve(_ entries: [HostPolicy.SourceEntry], host: String, book: AddressBook,
                         errors: inout [PolicyError]) -> ResolvedSources {
        let key = entries.map(\.text)
        if let cached = book.cachedResolution(key) { return cached }
        let errorCount = errors.count
        var resolved = ResolvedSources()
        // Addresses of literal entries and hosts, normalised once at the end: normalising after each entry made a
        // list of thousands of addresses quadratic.
        var networks: [IPNetwork] = []
        for entry in entries {
            let text = entry.text
            func fail(_ message: String, hint: String? = nil) {
                errors.append(PolicyError(host: host, location: entry.origin.location, path: entry.origin.path,
                                          scope: entry.origin.scope, message: message, hint: hint))
            }
            if text == "any" {
                // Read as the keyword, a rule meant for a group (or host) of that name would admit every address.
                if let kind = book.isGroup(text) ? "group" : book.isHost(text) ? "host" : nil {
                    fail("'any' means every address, and the inventory also has a \(kind) named 'any'",
                         hint: "rename the \(kind), so that no rule can mean one and admit the other")
                } else {
                    resolved.any = true
                }
            } else if IPNetwork.looksLikeAddress(text) {
                do {
                    networks.append(try IPNetwork(parsing: text).unmappingIPv4)
                } catch {
                    fail(error.description)
                }
            } else if book.isGroup(text) && book.isHost(text) {
                fail("'\(text)' is both a group and a host", hint: "rename one of them")
            } else if let members = book.members(ofGroup: text), let addresses = book.addresses(ofGroup: text) {
                guard !members.isEmpty else {
                    fail("group '\(text)' has no hosts, so the rule would match nothing", hint: "add hosts to it or remove the reference")
                    continue
                }
                // One problem per rule naming the group, however many members lack an address: each of those is
                // the member's own problem, and listing all of them for every host that names the group grows with
                // the square of the fleet.
                let unusable = book.unusableMembers(ofGroup: text)
                if let first = unusable.first {
                    let shown = unusable.prefix(3).map { "'\($0.host)' (\($0.reason))" }.joined(separator: "; ")
                    let more = unusable.count > 3 ? "; and \(unusable.count - 3) more" : ""
                    fail(unusable.count == 1 ? "group '\(text)' includes host '\(first.host)', whose address is unusable: \(first.reason)"
                                             : "group '\(text)' includes \(unusable.count) hosts whose address is unusable: \(shown)\(more)")
                }
                resolved.add(addresses)
            } else if book.isHost(text) {
                do {
                    networks += try book.addresses(ofHost: text)
                } catch {
                    fail("host '\(text)' has no usable address: \(error)")
                }
            } else {
                fail("'\(text)' is not a group, a host, an address or a network in the inventory",
                     hint: "check the spelling; `fwctl inventory --graph` lists groups and hosts")
            }
        }
        resolved.add(networks)
        if errors.count == errorCount { book.storeResolution(key, resolved) }
        return resolved
    }
}

/// Sources resolved to addresses: any, or the networks of each family, normalised (`IPNetwork.normalised`): sorted,
/// no overlaps, adjacent ranges merged, so every list loads into an interval set.
struct ResolvedSources: Sendable {
    var any = false
    private(set) var v4: [IPNetwork] = []
    private(set) var v6: [IPNetwork] = []

    mutating func add(_ networks: [IPNetwork]) {
        guard !networks.isEmpty else { return }
        var newV4 = v4, newV6 = v6
        for network in networks {
            if network.family == .v4 { newV4.append(network) } else { newV6.append(network) }
        }
        if newV4.count != v4.count { v4 = IPNetwork.normalised(newV4) }
        if newV6.count != v6.count { v6 = IPNetwork.normalised(newV6) }
    }

    mutating func add(_ other: ResolvedSources) {
        any = any || other.any
        if v4.isEmpty { v4 = other.v4 } else if !other.v4.isEmpty { v4 = IPNetwork.normalised(v4 + other.v4) }
        if v6.isEmpty { v6 = other.v6 } else if !other.v6.isEmpty { v6 = IPNetwork.normalised(v6 + other.v6) }
    }

    func networks(_ family: IPNetwork.Family) -> [IPNetwork] { family == .v4 ? v4 : v6 }

    /// True when the family's list is its whole address space (`0.0.0.0/0`): the rule matches any source of it.
    func coversAll(_ family: IPNetwork.Family) -> Bool { networks(family).first?.isWholeSpace == true }
}

/// Accumulates a host's rules, turning large source lists into named sets and dropping exact duplicates.
struct RuleListBuilder {
    let setThreshold: Int
    private(set) var rules: [FirewallRule] = []
    private(set) var sets: [AddressSet] = []

    mutating func addFixed(_ kind: FirewallRule.Kind, family: IPNetwork.Family) {
        append(FirewallRule(kind: kind, family: family, proto: kind == .neighbourDiscovery ? .icmp : .any, ports: [],
                            sources: .any, interface: nil, comment: nil))
    }

    mutating func add(kind: FirewallRule.Kind, family: IPNetwork.Family, proto: RuleProtocol, ports: [PortRange],
                      sources resolved: ResolvedSources, setLabel: String?, interface: String?, comment: String?) {
        let sources: FirewallRule.Sources
        if resolved.any || resolved.coversAll(family) {
            sources = .any  // `any`, never a /0 network: an ipset cannot hold one
        } else {
            let networks = resolved.networks(family)
            guard !networks.isEmpty else { return }  // nothing of this family to allow
            if networks.count > setThreshold {
                sources = .set(namedSet(family: family, members: networks, label: setLabel))
            } else {
                sources = .networks(networks)
            }
        }
        append(FirewallRule(kind: kind, family: family, proto: proto, ports: ports, sources: sources,
                            interface: interface, comment: comment))
    }

    /// Adds the rule unless an identical one is there (a host in two groups that both allow the same thing).
    /// A linear scan: a host has tens of rules, and comparing shared source arrays is a pointer check, where
    /// hashing them would read every address.
    private mutating func append(_ rule: FirewallRule) {
        if !rules.contains(rule) { rules.append(rule) }
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
        // Two different member lists under one label (e.g. a group's addresses and a wider list) stay apart, and so
        // do a group named like another list's fingerprint and that list: a number is added until the name is new.
        if sets.contains(where: { $0.name == name }) { name = "fw_\(Self.fingerprint(members))_\(suffix)" }
        var number = 2
        while sets.contains(where: { $0.name == name }) {
            name = "fw_\(Self.fingerprint(members))_\(number)_\(suffix)"
            number += 1
        }
        let set = AddressSet(name: name, family: family, members: members)
        sets.append(set)
        return set
    }

    /// FNV-1a over the members' family, address bytes and prefix: stable across runs and machines, unlike Swift's
    /// seeded hashing, and cheap enough to run for every host.
    static func fingerprint(_ members: [IPNetwork]) -> String {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        func mix(_ byte: UInt8) { hash = (hash ^ UInt64(byte)) &* 0x100_0000_01b3 }
        for member in members {
            switch member {
            case .v4(let address, let prefix):
                mix(4)
                for shift in stride(from: 24, through: 0, by: -8) { mix(UInt8(truncatingIfNeeded: address >> UInt32(shift))) }
                mix(prefix)
            case .v6(let address, let prefix):
                mix(6)
                for shift in stride(from: 120, through: 0, by: -8) { mix(UInt8(truncatingIfNeeded: address >> UInt128(shift))) }
                mix(prefix)
            }
        }
        let hex = String(hash, radix: 16)
        return String(repeating: "0", count: 16 - hex.count) + hex
    }
}
