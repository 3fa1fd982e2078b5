import ArgumentParser
import Logging
import FWCommandLine
import FWDeploy
import FWSSH
import Foundation

/// `fwctl backups`: the backup generations kept on hosts.
struct BackupsCommand: FWCommand {
    static let configuration = CommandConfiguration(
        commandName: "backups",
        abstract: "List the backup generations kept on the selected hosts.",
        discussion: """
            Each deploy or rollback that changes a host first saves the rules it replaces as a numbered, \
            timestamped generation in the host's state folder (the newest --keep are kept). Lists, per host, \
            the number, time, who ran fwctl, the rules hash and what replaced it; `fwctl rollback --to N` \
            restores one. Changes nothing.
            """)

    @OptionGroup var global: GlobalOptions
    @OptionGroup var inventoryOptions: InventoryOptions
    @OptionGroup var policyOptions: PolicyOptions
    @OptionGroup var ssh: SSHConnectionOptions

    @Flag(help: "Print the generations as JSON.")
    var json = false

    func validate() throws {
        if inventoryOptions.limit == nil { throw ValidationError("say which hosts: --limit PATTERN") }
    }

    func execute(log: Logger) throws {
        let run = try FleetRun.readOnly(global: global, inventoryOptions: inventoryOptions, policyOptions: policyOptions, ssh: ssh)
        let (jobs, settings) = try run.prepare(log: log, verb: "list")
        let deployer = HostDeployer(settings: settings)
        let jumps = JumpPool(options: settings.ssh)
        defer { jumps.close() }
        let results = HostRunner(parallelism: ssh.parallelism(default: 20))
            .run(jobs.map(\.target), hostTimeout: settings.ssh.hostTimeout) { target, deadline in
                try deployer.backups(jobs.first { $0.target == target }!, deadline: deadline, jumps: jumps)
            }
        let listed = results.compactMap(\.outcome.value)
        if json {
            try Terminal.writeJSON(listed)
        } else {
            var rows = [["HOST", "GEN", "TIME", "USER", "RULES HASH", "REPLACED BY"]]
            for host in listed {
                for generation in host.generations.reversed() {
                    rows.append([host.host, String(generation.number), generation.time, generation.user,
                                 String(generation.rulesHash.prefix(16)), generation.action])
                }
                if host.generations.isEmpty { rows.append([host.host, "-", "no backups", "", "", ""]) }
            }
            try Terminal.writeResults(TextTable.render(rows) { _, _, padded in padded })
        }
        let failed = results.filter { !$0.outcome.succeeded }
        for failure in failed { if let error = failure.outcome.error { log.error("\(failure.target.name): \(error)") } }
        if !failed.isEmpty { throw HostsFailed(failed: failed.count, total: results.count) }
    }
}
