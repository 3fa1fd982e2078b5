import ArgumentParser
import Logging
import FWCommandLine
import FWDeploy
import Foundation

/// `fwctl rollback`: load an earlier backup generation, with deploy's safety.
struct RollbackCommand: FWCommand {
    static let configuration = CommandConfiguration(
        commandName: "rollback",
        abstract: "Restore each selected host's rules from a backup generation.",
        discussion: """
            Loads the newest backup generation (or --to N) on each selected host with the same safety as deploy: \
            the live rules are backed up first as a new generation, a revert timer is armed, and a new \
            connection must confirm before the timer fires. `fwctl backups` lists the generations.
            """)

    @OptionGroup var global: GlobalOptions
    @OptionGroup var inventoryOptions: InventoryOptions
    @OptionGroup var policyOptions: PolicyOptions
    @OptionGroup var ssh: SSHConnectionOptions
    @OptionGroup var fleet: FleetOptions
    @OptionGroup var rollout: RolloutOptions

    @Option(help: ArgumentHelp("The generation number to restore (default: the newest).", valueName: "gen"))
    var to: Int?

    func validate() throws {
        try fleet.validate(limit: inventoryOptions.limit)
        if let to, to < 1 { throw ValidationError("--to must be a generation number (1 or more), not \(to)") }
    }

    func execute(log: Logger) throws {
        let run = FleetRun(global: global, inventoryOptions: inventoryOptions, policyOptions: policyOptions, ssh: ssh,
                           fleet: fleet, rollout: rollout, action: .rollback, rollbackTo: to)
        let reports = try run.run(log: log, verb: "rollback")
        try DeployReportOutput.write(reports, json: fleet.json)
        try DeployReportOutput.finish(reports, log: log)
    }
}
