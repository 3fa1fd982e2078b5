import ArgumentParser

@main
struct FWCtl: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "fwctl",
        abstract: "Keep the host firewalls of a fleet of Linux servers correct.",
        discussion: """
            fwctl reads the servers and their groups from an Ansible inventory and the firewall \
            policy from its vars.

            EXIT STATUS
              0   success
              1   a check or a host failed
              2   invalid input (inventory, policy, template)
              64  usage error (unknown option, missing argument)
            """,
        version: FWCtlVersion.string,
        subcommands: [InventoryCommand.self, RenderCommand.self, CheckCommand.self, PingCommand.self, DeployCommand.self,
                      DiffCommand.self, RollbackCommand.self, BackupsCommand.self, LabCommand.self, TunnelCommand.self, TemplateCommand.self]
    )
}
