import FWInventory

/// The anti-lockout check for hosts reached through jump hosts: deploy's SSH arrives at each hop from the hop before
/// it, not from the controller, so each hop's rules must accept SSH from every address of the hop before it (of the
/// family deploy connects over). A policy that would cut the path is an error naming the jump host.
enum JumpPathCheck {
    /// Every hop that reaches this host must be let in: the last jump host of its own chain, and, where the host
    /// is itself a later hop of another host's chain (`ProxyJump=bastion1,bastion2`), the hop before it there.
    static func problems(in firewall: HostFirewall, jumps: [JumpHost], book: AddressBook) -> [PolicyError] {
        guard firewall.defaultAction != .accept, let deployAddress = firewall.addresses.first else { return [] }
        var problems: [PolicyError] = []
        if let jump = jumps.last {
            problems += check(firewall, from: jump, family: deployAddress.family, book: book, role: "the host is reached through jump host '\(jump.name)'")
        }
        for (previous, target, family) in book.jumpPredecessors[firewall.host] ?? [] {
            // Already checked above when it is this host's own last jump host, over the same family.
            if previous == jumps.last, (family ?? deployAddress.family) == deployAddress.family { continue }
            problems += check(firewall, from: previous, family: family ?? deployAddress.family, book: book,
                              role: "the host is the jump host after '\(previous.name)' on the way to '\(target)'")
        }
        return problems
    }

    /// Whether `firewall` accepts SSH from every address of `jump` of `family`, or why not.
    private static func check(_ firewall: HostFirewall, from jump: JumpHost, family: IPNetwork.Family, book: AddressBook,
                              role: String) -> [PolicyError] {
        let familyName = family == .v4 ? "IPv4" : "IPv6"
        func problem(_ message: String, hint: String) -> PolicyError {
            PolicyError(.lockout, host: firewall.host, path: "firewall.management", message: message, hint: hint)
        }
        let jumpAddresses: [IPNetwork]
        if jump.isInventoryHost {
            do {
                jumpAddresses = try book.addresses(ofHost: jump.name)
            } catch {
                return [problem("\(role), whose address is unusable (\(error.message)), so fwctl cannot prove SSH from it stays open",
                                hint: "give '\(jump.name)' an IP address in ansible_host or fw_addresses")]
            }
        } else if IPNetwork.looksLikeAddress(jump.connection.address), let address = try? IPNetwork(parsing: jump.connection.address) {
            // An address of an inventory host stands for that host: its other addresses (fw_addresses) are where
            // its connections to hosts of the other family come from.
            jumpAddresses = book.inventoryHost(of: jump).flatMap { try? book.addresses(ofHost: $0) } ?? [address]
        } else {
            return [problem("\(role), a name fwctl does not resolve, so it cannot prove SSH from that jump host stays open",
                            hint: "name the jump host by an inventory host or an IP address in ProxyJump")]
        }
        let sources = jumpAddresses.filter { $0.family == family }
        guard !sources.isEmpty else {
            return [problem("\(role) over \(familyName), but '\(jump.name)', which has no \(familyName) address, could not make that SSH connection",
                            hint: "give '\(jump.name)' an \(familyName) address (fw_addresses) or reach the host over the other family")]
        }
        let refused = sources.filter { !acceptsSSH(firewall, from: $0) }
        guard !refused.isEmpty else { return [] }
        let list = refused.map(\.addressText).joined(separator: ", ")
        return [problem("\(role), but the rules would refuse SSH (port \(firewall.sshPort)) from its address \(list): deploying would cut the jump path and lock everyone out",
                        hint: "add '\(jump.name)' (or its group) to firewall.management")]
    }

    /// Whether some rule accepts TCP to the SSH port from `source` on any interface.
    static func acceptsSSH(_ firewall: HostFirewall, from source: IPNetwork) -> Bool {
        let port = Int(firewall.sshPort)
        return firewall.rules.contains { rule in
            guard rule.kind == .management || rule.kind == .allow, rule.family == source.family, rule.interface == nil,
                  rule.proto == .tcp || rule.proto == .any,
                  rule.ports.isEmpty || rule.ports.contains(where: { Int($0.low) <= port && port <= Int($0.high) }) else { return false }
            switch rule.sources {
            case .any: return true
            case .networks(let networks): return networks.contains { contains($0, source) }
            case .set(let set): return set.members.contains { contains($0, source) }
            }
        }
    }

    static func contains(_ network: IPNetwork, _ address: IPNetwork) -> Bool {
        switch (network, address) {
        case let (.v4(net, prefix), .v4(a, _)):
            let mask: UInt32 = prefix == 0 ? 0 : ~UInt32(0) << (32 - UInt32(prefix))
            return a & mask == net & mask
        case let (.v6(net, prefix), .v6(a, _)):
            let mask: UInt128 = prefix == 0 ? 0 : ~UInt128(0) << (128 - UInt128(prefix))
            return a & mask == net & mask
        default:
            return false
        }
    }
}
