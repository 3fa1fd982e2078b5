import ArgumentParser
import Logging
import FWCommandLine
import FWDeploy
import Foundation

/// `fwctl deploy`: install each host's rendered rules so that no mistake locks anyone out.
struct DeployCommand: FWCommand {
    static let configuration = CommandConfiguration(
        commandName: "deploy",
        abstract: "Install each selected host's firewall rules over SSH, safely.",
        discussion: """
            Renders and checks every selected host first (as `fwctl check`); nothing is sent anywhere unless all \
            pass. Then per host, over one connection and one command: the files go to a staging folder under the \
            host's state folder (fwctl_state_dir, default /var/lib/fwctl), are validated by loading them into a \
            scratch network namespace, and are compared with the live rules (a host whose live rules already \
            match is reported unchanged and not touched). Otherwise the live rules fwctl owns are saved as a new \
            numbered backup generation, a revert timer is armed that restores it after --confirm-timeout seconds, \
            and the rules are applied atomically. A NEW connection then confirms that new connections still get \
            in, cancels the timer and writes the rules for the next boot. If that connection cannot be made, the \
            timer restores the host by itself; fwctl checks that it did and reports `rolled back`.

            fwctl owns only what it creates (the FWCTL-INPUT chain, the table inet fwctl, ufw's user rules): \
            Docker, fail2ban and other users of netfilter keep their chains and rules.

            Ctrl-C stops starting hosts; running hosts finish or roll back. Each host's result is appended to the \
            audit log. Exits 0 only if every selected host ended deployed or unchanged.
            """)

    @OptionGroup var global: GlobalOptions
    @OptionGroup var inventoryOptions: InventoryOptions
    @OptionGroup var policyOptions: PolicyOptions
    @OptionGroup var ssh: SSHConnectionOptions
    @OptionGroup var fleet: FleetOptions
    @OptionGroup var rollout: RolloutOptions

    @Flag(help: "Render, connect, validate and show per host what would change (a diff); apply nothing.")
    var dryRun = false

    func validate() throws { try fleet.validate(limit: inventoryOptions.limit) }

    func execute(log: Logger) throws {
        let run = FleetRun(global: global, inventoryOptions: inventoryOptions, policyOptions: policyOptions, ssh: ssh,
                           fleet: fleet, rollout: rollout, action: dryRun ? .dryRun : .deploy)
        let reports = try run.run(log: log, verb: dryRun ? "dry-run" : "deploy")
        if dryRun && !fleet.json {
            for report in reports where report.result == .changed {
                try Terminal.writeResults("# \(report.host): would change\n\(report.diff ?? "")")
            }
        }
        try DeployReportOutput.write(reports, json: fleet.json)
        try DeployReportOutput.finish(reports, log: log)
    }
}
