import FWInventory

/// The anti-lockout check for hosts reached through jump hosts: deploy's SSH arrives from the last jump host's
/// address, not from the controller, so the rules must accept SSH from every address of that jump host (of the
/// family deploy connects over). A policy that would cut the path is an error naming the jump host.
enum JumpPathCheck {
    static func problems(in firewall: HostFirewall, jumps: [JumpHost], book: AddressBook) -> [PolicyError] {
        guard firewall.defaultAction != .accept, let jump = jumps.last, let deployAddress = firewall.addresses.first else { return [] }
        let family = deployAddress.family
        let familyName = family == .v4 ? "IPv4" : "IPv6"
        func problem(_ message: String, hint: String) -> PolicyError {
            PolicyError(.lockout, host: firewall.host, path: "firewall.management", message: message, hint: hint)
        }
        let jumpAddresses: [IPNetwork]
        if jump.isInventoryHost {
            do {
                jumpAddresses = try book.addresses(ofHost: jump.name)
            } catch {
                return [problem("the host is reached through jump host '\(jump.name)', whose address is unusable (\(error.message)), so fwctl cannot prove SSH from it stays open",
                                hint: "give '\(jump.name)' an IP address in ansible_host or fw_addresses")]
            }
        } else if IPNetwork.looksLikeAddress(jump.connection.address), let address = try? IPNetwork(parsing: jump.connection.address) {
            // An address of an inventory host stands for that host: its other addresses (fw_addresses) are where
            // its connections to hosts of the other family come from.
            jumpAddresses = owner(of: address, in: book).flatMap { try? book.addresses(ofHost: $0) } ?? [address]
        } else {
            return [problem("the host is reached through jump host '\(jump.name)', a name fwctl does not resolve, so it cannot prove SSH from the jump host stays open",
                            hint: "name the jump host by an inventory host or an IP address in ProxyJump")]
        }
        let sources = jumpAddresses.filter { $0.family == family }
        guard !sources.isEmpty else {
            return [problem("the host is reached at \(deployAddress.addressText) (\(familyName)) through jump host '\(jump.name)', which has no \(familyName) address: its SSH connection could not arrive",
                            hint: "give '\(jump.name)' an \(familyName) address (fw_addresses) or reach the host over the other family")]
        }
        let refused = sources.filter { !acceptsSSH(firewall, from: $0) }
        guard !refused.isEmpty else { return [] }
        let list = refused.map(\.addressText).joined(separator: ", ")
        return [problem("the host is reached through jump host '\(jump.name)', but the rules would refuse SSH (port \(firewall.sshPort)) from its address \(list): deploying would cut the jump path and lock everyone out",
                        hint: "add '\(jump.name)' (or its group) to firewall.management")]
    }

    /// The inventory host that has `address` among its own addresses, if exactly one does.
    static func owner(of address: IPNetwork, in book: AddressBook) -> String? {
        let owners = (book.members(ofGroup: "all") ?? []).filter { host in
            ((try? book.addresses(ofHost: host)) ?? []).contains(address)
        }
        return owners.count == 1 ? owners[0] : nil
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
