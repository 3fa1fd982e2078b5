import ArgumentParser

/// `fwctl tunnel ...`: the inventory's reverse tunnels (fwtunnel-home outside the firewall, fwtunnel-work behind it).
struct TunnelCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tunnel",
        abstract: "Deploy, check and remove the reverse tunnels of the inventory's tunnels list.",
        discussion: """
            A tunnel lets the clients of its allowlist reach a service behind a firewall: fwtunnel-work on each work \
            host dials out to fwtunnel-home on the home host, and clients connect to home's client port. The tunnels \
            list in the inventory vars says which (name, home, work, service, client_port, control_port, allow, tls, \
            proxy_protocol; lists accumulate over groups like firewall.allow). The same resolved allowlist goes into \
            home's firewall through `fwctl render`/`deploy` (client port open to it only, control port to the work \
            hosts only), and `fwctl check` fails when home's own rules open those ports wider.
            """,
        subcommands: [TunnelListCommand.self, TunnelInstallCommand.self, TunnelStatusCommand.self, TunnelUninstallCommand.self]
    )
}
