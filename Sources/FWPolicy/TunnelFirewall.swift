/// Where the tunnels meet the firewall: home's rules get the tunnel's ports (the client port open to the tunnel's
/// allowlist only, the control port to the work hosts' addresses only), and `check` refuses a policy whose own rules
/// would open those ports wider, so the firewall and the tunnel's own allowlist always agree. Work hosts dial out and
/// need no inbound rule: one that looks meant for the tunnel is a warning (it does no harm to the tunnel, but it
/// opens the work host for nothing).
enum TunnelFirewall {
    /// Adds the rules home needs for each of its tunnels.
    static func addRules(for tunnels: [TunnelPlan], to builder: inout RuleListBuilder) {
        for tunnel in tunnels {
            for family in IPNetwork.Family.allCases {
                builder.add(kind: .allow, family: family, proto: .tcp, ports: [PortRange(low: Int(tunnel.clientPort), high: Int(tunnel.clientPort))!],
                            sources: tunnel.allowSources, setLabel: nil, interface: nil, comment: "fwctl tunnel \(tunnel.name) clients")
                builder.add(kind: .allow, family: family, proto: .tcp, ports: [PortRange(low: Int(tunnel.controlPort), high: Int(tunnel.controlPort))!],
                            sources: tunnel.workSources, setLabel: nil, interface: nil, comment: "fwctl tunnel \(tunnel.name) agents")
            }
        }
    }

    /// On home: every policy rule that opens a tunnel port to a source outside what the tunnel admits there, and a
    /// default accept (which opens every port to everyone). Errors: the firewall and the tunnel would disagree.
    static func homeProblems(host: String, defaultAction: DefaultAction,
                             entries: [(HostPolicy.AllowEntry, ResolvedSources)], tunnels: [TunnelPlan]) -> [PolicyError] {
        var problems: [PolicyError] = []
        for tunnel in tunnels {
            if defaultAction == .accept {
                problems.append(PolicyError(host: host, path: "firewall.default",
                                            message: "accept opens every port, the client port \(tunnel.clientPort) of \(tunnel.label) too, to anyone, wider than its allowlist",
                                            hint: "use default drop or reject on a tunnel's home"))
                continue
            }
            let ports: [(String, UInt16, ResolvedSources)] = [("client port", tunnel.clientPort, tunnel.allowSources),
                                                              ("control port", tunnel.controlPort, tunnel.workSources)]
            for (entry, sources) in entries {
                for (what, port, admitted) in ports where opens(entry, port: port) {
                    guard let extra = widerSources(sources, than: admitted) else { continue }
                    let whom = what == "client port" ? "its allowlist" : "its work hosts' addresses"
                    problems.append(PolicyError(host: host, location: entry.origin.location, path: entry.origin.path, scope: entry.origin.scope,
                                                message: "opens the \(what) \(port) of \(tunnel.label) to \(extra), wider than \(whom)",
                                                hint: "narrow the rule's from or ports, or add the sources to the tunnel's allow list"))
                }
            }
        }
        return problems
    }

    /// On a work host: policy rules that look meant for a tunnel (its ports, or from its home). Warnings.
    static func workNotes(host: String, entries: [HostPolicy.AllowEntry], tunnels: [TunnelPlan]) -> [PolicyError] {
        var notes: [PolicyError] = []
        for tunnel in tunnels {
            for entry in entries {
                let namesPort = !entry.ports.isEmpty && (entry.proto == .tcp || entry.proto == .any)
                    && [tunnel.clientPort, tunnel.controlPort].contains { port in entry.ports.contains { $0.low <= port && port <= $0.high } }
                let namesHome = entry.from.contains { $0.text == tunnel.home }
                    || entry.from.contains { $0.text == tunnel.homeAddress.addressText }
                guard namesPort || namesHome else { continue }
                notes.append(PolicyError(.warning, host: host, location: entry.origin.location, path: entry.origin.path, scope: entry.origin.scope,
                                         message: "this host is a work host of \(tunnel.label), which dials out to its home and needs no inbound rule; "
                                             + (namesPort ? "this rule opens the tunnel's port" : "this rule admits the tunnel's home"),
                                         hint: "remove the rule unless something other than the tunnel needs it"))
            }
        }
        return notes
    }

    /// True when the rule lets TCP to `port` in.
    static func opens(_ entry: HostPolicy.AllowEntry, port: UInt16) -> Bool {
        guard entry.proto == .tcp || entry.proto == .any else { return false }
        return entry.ports.isEmpty || entry.ports.contains { $0.low <= port && port <= $0.high }
    }

    /// The sources of `sources` that `admitted` does not cover, as text, or nil when it covers them all.
    static func widerSources(_ sources: ResolvedSources, than admitted: ResolvedSources) -> String? {
        var outside: [String] = []
        for family in IPNetwork.Family.allCases {
            if admitted.any || admitted.coversAll(family) { continue }
            if sources.any || sources.coversAll(family) {
                outside.append(family == .v4 ? "any IPv4 address" : "any IPv6 address")
                continue
            }
            let allowed = admitted.networks(family)
            for network in sources.networks(family) where !allowed.contains(where: { $0.contains(network) }) {
                outside.append(network.description)
            }
        }
        guard !outside.isEmpty else { return nil }
        let shown = outside.prefix(4).joined(separator: ", ")
        return outside.count > 4 ? "\(shown) and \(outside.count - 4) more" : shown
    }
}
