import ArgumentParser
import FWCommandLine
import FWSSH
import FWTunnelDeploy
import Foundation
import Logging

/// `fwctl tunnel install`: both ends of each tunnel from the inventory, changing only what differs.
struct TunnelInstallCommand: FWCommand {
    static let configuration = CommandConfiguration(
        commandName: "install",
        abstract: "Install (or update) each tunnel's fwtunnel-home and fwtunnel-work from the inventory.",
        discussion: """
            Per tunnel, home first, then its work hosts in parallel, each over SSH as the inventory says (jump \
            hosts, become): a read-only probe (architecture, C library, systemd, checksums of what is installed), \
            the fwtunnel binary built beside this fwctl uploaded only when its checksum differs (refused with the \
            reason when the host's CPU or C library cannot run it), then one script that writes only the files that \
            differ and starts or restarts the end only when something changed or it was not running. Files: \
            /usr/local/bin/fwtunnel-{home,work}, /etc/fwtunnel/NAME/ (config, allowlist, secret, TLS key and \
            certificate; 0600), /var/lib/fwtunnel/NAME/ (status socket, pid files, log). Where systemd runs the \
            host's services a unit /etc/systemd/system/fwtunnel-NAME-ROLE.service; elsewhere (a container, a lab \
            host) a small supervisor started with setsid that restarts the program with backoff.

            Secrets: each tunnel's shared secret is made once (32 random bytes) and read back from home on later \
            runs; home's TLS key is made on home with its openssl (here, if home has none) and work pins the \
            certificate's SHA-256. Secrets travel inside scripts on stdin, never on a command line, and are never \
            printed; --save-secrets keeps a local 0600 copy.

            Afterwards home's status must show every agent connected and a warm pool of authenticated data \
            connections. Exits 0 when every end is installed and verified, 1 otherwise, 2 on invalid input.
            """)

    @OptionGroup var global: GlobalOptions
    @OptionGroup var inventoryOptions: InventoryOptions
    @OptionGroup var options: TunnelOptions
    @OptionGroup var ssh: SSHConnectionOptions

    @Option(help: ArgumentHelp("The folder holding fwtunnel-home and fwtunnel-work. Default: the folder of this fwctl.", valueName: "dir"))
    var tunnelBinaries: String?

    @Flag(help: "Make a new shared secret for each selected tunnel (home and work are restarted with it).")
    var rotateSecret = false

    @Option(help: ArgumentHelp("Also write each tunnel's secret to DIR/NAME.secret (mode 0600).", valueName: "dir"))
    var saveSecrets: String?

    @Flag(help: "Print the report as JSON.")
    var json = false

    func execute(log: Logger) throws {
        if let saveSecrets {
            var isDirectory: ObjCBool = false
            guard FileManager.default.fileExists(atPath: saveSecrets, isDirectory: &isDirectory), isDirectory.boolValue else {
                throw ValidationError("--save-secrets: \(saveSecrets) is not a folder")
            }
        }
        let (selection, prepared, jumps) = try TunnelSelection.prepare(inventoryOptions, options, ssh: ssh, binaries: tunnelBinaries, log: log)
        defer { jumps.close() }
        for plan in selection.plans where selection.book.vars(ofHost: plan.home)?["firewall"] == nil {
            log.warning("\(plan.label): home '\(plan.home)' has no firewall var, so no fwctl rule limits its client port \(plan.clientPort) to the allowlist; fwtunnel-home's own allowlist is the only check")
        }
        var settings = prepared.settings
        settings.rotateSecret = rotateSecret
        settings.saveSecretsDirectory = saveSecrets
        let installer = TunnelInstaller(settings: settings)
        let progress = TunnelProgress(quiet: global.quiet).callback
        let reports = selection.plans.map { installer.install($0, targets: selection.targets, jumps: jumps, events: progress) }
        try TunnelReportOutput.write(reports, json: json)
        try TunnelReportOutput.finish(reports, log: log)
    }
}
