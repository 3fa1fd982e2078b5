/// The anti-lockout check: fwctl must never install rules that keep the operators' SSH out.
///
/// It reasons about what really happens: the address fwctl connects to (`Connection`, IPv4-mapped IPv6 counted as
/// IPv4), and every rule that really opens that SSH port to a source an operator can be at. Sources that can never
/// be where an operator is (loopback, the host itself, 0.0.0.0, broadcast, multicast) open nothing.
enum LockoutCheck {
    /// Why the host's rules would refuse SSH from every usable source on the address deploy connects to, or nil
    /// when they would not.
    static func problem(in firewall: HostFirewall, managementEntries: [HostPolicy.SourceEntry]) -> PolicyError? {
        if firewall.defaultAction == .accept { return nil }
        guard let deployAddress = firewall.addresses.first else { return nil }  // its own error is reported already
        let family = deployAddress.family
        let familyName = family == .v4 ? "IPv4" : "IPv6"
        let opened = firewall.rules.contains { rule in
            opensSSH(rule, family: family, port: firewall.sshPort) && hasUsableSource(rule.sources, host: firewall)
        }
        if opened { return nil }
        guard let first = managementEntries.first else {
            return PolicyError(
                .lockout, host: firewall.host, path: "firewall.management",
                message: "no management sources: the rules would let SSH (port \(firewall.sshPort)) in from nowhere, "
                    + "so deploying them would lock everyone out",
                hint: "add management sources, e.g. `management: [bastion]` in group_vars/all")
        }
        let named = managementEntries.map { "\($0.text) (\($0.origin))" }.joined(separator: ", ")
        return PolicyError(
            .lockout, host: firewall.host, location: first.origin.location, path: "firewall.management",
            scope: first.origin.scope,
            message: "no management source (\(named)) is a usable \(familyName) address, but the host is reached at "
                + "\(deployAddress.addressText) (\(familyName)): SSH on port \(firewall.sshPort) would be refused and "
                + "deploying would lock everyone out",
            hint: "add an \(familyName) management source operators connect from, or point ansible_host at an address of the other family")
    }

    /// True when the rule lets TCP to the SSH port in, on any interface.
    static func opensSSH(_ rule: FirewallRule, family: IPNetwork.Family, port: UInt16) -> Bool {
        guard rule.family == family, rule.kind == .management || rule.kind == .allow, rule.interface == nil,
              rule.proto == .tcp || rule.proto == .any else { return false }
        return rule.ports.isEmpty || rule.ports.contains { $0.low <= Int(port) && Int(port) <= $0.high }
    }

    static func hasUsableSource(_ sources: FirewallRule.Sources, host: HostFirewall) -> Bool {
        switch sources {
        case .any: return true
        case .networks(let networks): return networks.contains { unusableReasons($0, host: host) == nil }
        case .set(let set): return set.members.contains { unusableReasons($0, host: host) == nil }
        }
    }

    /// Why no operator can connect from `network` to this host, or nil when one can.
    static func unusableReasons(_ network: IPNetwork, host: HostFirewall) -> [String]? {
        network.unusableSourceReasons(alsoUnusable: host.addresses.filter(\.isSingleAddress).map { ($0, "the host's own address") })
    }

    /// A warning for each management entry that resolves only to sources no operator can be at.
    static func uselessManagementEntries(_ entries: [(HostPolicy.SourceEntry, ResolvedSources)], host: HostFirewall) -> [PolicyError] {
        entries.compactMap { entry, resolved in
            guard !resolved.any else { return nil }
            let networks = resolved.networks(.v4) + resolved.networks(.v6)
            guard !networks.isEmpty else { return nil }
            let reasons = networks.map { unusableReasons($0, host: host) }
            guard reasons.allSatisfy({ $0 != nil }) else { return nil }
            let why = Array(Set(reasons.compactMap { $0 }.joined())).sorted().joined(separator: "; ")
            return PolicyError(
                .warning, host: host.host, location: entry.origin.location, path: entry.origin.path, scope: entry.origin.scope,
                message: "'\(entry.text)' can never be where an operator connects from (\(why)), so it opens SSH to no one",
                hint: "name the bastion or the network operators really connect from")
        }
    }
}
