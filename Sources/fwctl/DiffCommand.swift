import ArgumentParser
import Logging
import FWCommandLine
import FWDeploy
import Foundation

/// `fwctl diff`: drift between each host's live rules and what the inventory renders.
struct DiffCommand: FWCommand {
    static let configuration = CommandConfiguration(
        commandName: "diff",
        abstract: "Show per host a unified diff of the live rules against the rendered ones.",
        discussion: """
            Connects to each selected host, validates its rendered rules there and compares them with the live \
            rules fwctl owns, both normalised (counters and comments left out, set members sorted). Changes \
            nothing. Exits 1 if any host drifted (or failed), 0 if every host matches.
            """)

    @OptionGroup var global: GlobalOptions
    @OptionGroup var inventoryOptions: InventoryOptions
    @OptionGroup var policyOptions: PolicyOptions
    @OptionGroup var ssh: SSHConnectionOptions

    @Flag(help: "Act on every host of the inventory (or give --limit).")
    var all = false

    @Flag(help: "Print the report as JSON.")
    var json = false

    func validate() throws {
        if all && inventoryOptions.limit != nil { throw ValidationError("give --all or --limit, not both") }
    }

    func execute(log: Logger) throws {
        let run = try FleetRun.readOnly(global: global, inventoryOptions: inventoryOptions, policyOptions: policyOptions, ssh: ssh)
        let reports = try run.run(log: log, verb: "diff")
        if json {
            try DeployReportOutput.write(reports, json: true)
        } else {
            for report in reports where report.result == .changed {
                try Terminal.writeResults("# \(report.host)\n\(report.diff ?? "")")
            }
            let drifted = reports.filter { $0.result == .changed }.count
            let same = reports.filter { $0.result == .unchanged }.count
            log.info("\(drifted) drifted, \(same) match, \(reports.count - drifted - same) failed")
        }
        try DeployReportOutput.finish(reports, log: log)
        if reports.contains(where: { $0.result == .changed }) { throw ExitCode(ExitStatus.failure) }
    }
}
