/// The anti-lockout check: fwctl must never install rules that keep the operators' SSH out.
enum LockoutCheck {
    /// Why the host's rules would refuse SSH from every management source on the address deploy connects to, or
    /// nil when they would not.
    static func problem(in firewall: HostFirewall, managementEntries: [HostPolicy.SourceEntry]) -> PolicyError? {
        if firewall.defaultAction == .accept { return nil }
        guard let deployAddress = firewall.addresses.first else { return nil }  // its own error is reported already
        let family = deployAddress.family
        let familyName = family == .v4 ? "IPv4" : "IPv6"
        let opened = firewall.rules.contains { $0.kind == .management && $0.family == family }
        if opened { return nil }
        if managementEntries.isEmpty {
            return PolicyError(
                .lockout, host: firewall.host, path: "firewall.management",
                message: "no management sources: the rules would let SSH (port \(firewall.sshPort)) in from nowhere, "
                    + "so deploying them would lock everyone out",
                hint: "add management sources, e.g. `management: [bastion]` in group_vars/all")
        }
        let named = managementEntries.map(\.text).joined(separator: ", ")
        return PolicyError(
            .lockout, host: firewall.host, path: "firewall.management",
            message: "the management sources (\(named)) have no \(familyName) address, but the host is reached at "
                + "\(deployAddress.addressText) (\(familyName)): SSH on port \(firewall.sshPort) would be refused and "
                + "deploying would lock everyone out",
            hint: "add an \(familyName) management source, or point ansible_host at an address of the other family")
    }
}
