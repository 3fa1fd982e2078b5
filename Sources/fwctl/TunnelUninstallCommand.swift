import ArgumentParser
import FWCommandLine
import FWSSH
import FWTunnelDeploy
import Logging

/// `fwctl tunnel uninstall`: both ends of each selected tunnel removed, leaving nothing behind.
struct TunnelUninstallCommand: FWCommand {
    static let configuration = CommandConfiguration(
        commandName: "uninstall",
        abstract: "Stop and remove each selected tunnel's ends: units or supervisors, binaries, configs, secrets, state.",
        discussion: """
            Work hosts first, then home. Removes /etc/fwtunnel/NAME and /var/lib/fwtunnel/NAME, the unit (or stops the \
            supervisor), and /usr/local/bin/fwtunnel-ROLE when no other tunnel on the host uses it. A host without \
            the tunnel reports `absent`. home's firewall rules for the tunnel go with the tunnels list entry: remove \
            it and deploy. Exits 0 when every end is removed or absent.
            """)

    @OptionGroup var global: GlobalOptions
    @OptionGroup var inventoryOptions: InventoryOptions
    @OptionGroup var options: TunnelOptions
    @OptionGroup var ssh: SSHConnectionOptions

    @Flag(help: "Print the report as JSON.")
    var json = false

    func execute(log: Logger) throws {
        let (selection, installer, jumps) = try TunnelSelection.prepare(inventoryOptions, options, ssh: ssh, log: log)
        defer { jumps.close() }
        let progress = TunnelProgress(quiet: global.quiet).callback
        let reports = selection.plans.map { installer.uninstall($0, targets: selection.targets, jumps: jumps, events: progress) }
        try TunnelReportOutput.write(reports, json: json)
        try TunnelReportOutput.finish(reports, log: log)
    }
}
