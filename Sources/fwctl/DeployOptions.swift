import ArgumentParser
import FWCommandLine
import FWDeploy
import FWInventory
import FWPolicy
import FWSSH
import FWTemplate
import Foundation
import Logging
import Synchronization

/// The options deploy, diff and rollback share, and the run they have in common: render and check every selected
/// host, then run the on-host scripts through FleetDeployer.
struct FleetOptions: ParsableArguments {
    @Flag(help: "Act on every host of the inventory (or give --limit).")
    var all = false

    @Option(help: ArgumentHelp("Seconds the revert timer waits for the confirming connection (1-3600).", valueName: "seconds"))
    var confirmTimeout = 30

    @Option(help: ArgumentHelp("Backup generations kept on each host (1-1000).", valueName: "n"))
    var keep = 10

    @Option(help: ArgumentHelp("The local audit log (JSON lines). Default: $FWCTL_AUDIT_LOG, else ~/.local/state/fwctl/audit.jsonl.",
                               valueName: "file"))
    var auditLog: String?

    @Flag(help: "Print the report as JSON instead of a table.")
    var json = false

    func validate(limit: String?) throws {
        if all == (limit != nil) { throw ValidationError("say which hosts: --all, or --limit PATTERN") }
        guard (1...3600).contains(confirmTimeout) else { throw ValidationError("--confirm-timeout must be 1 to 3600 seconds, not \(confirmTimeout)") }
        guard (1...1000).contains(keep) else { throw ValidationError("--keep must be 1 to 1000, not \(keep)") }
    }
}

/// Canary, batches and max-fail: deploy and rollback only.
struct RolloutOptions: ParsableArguments {
    @Option(help: ArgumentHelp("Run the first N selected hosts first, alone; if any fails, start no other.", valueName: "n"))
    var canary = 0

    @Option(help: ArgumentHelp("Run the hosts in batches of N hosts, or of P% of them (`--batch 10`, `--batch 25%`).", valueName: "n|p%"))
    var batch: String?

    @Option(help: ArgumentHelp("Stop starting hosts once more than P% of the hosts have failed (`--max-fail 10%`).", valueName: "p%"))
    var maxFail: String?

    func validate() throws {
        guard canary >= 0 else { throw ValidationError("--canary must be 0 or more, not \(canary)") }
        if let batch, BatchSize(batch) == nil { throw ValidationError("--batch must be a number of hosts or a percentage (10, 25%), not '\(batch)'") }
        if maxFail != nil, maxFailPercent == nil { throw ValidationError("--max-fail must be a percentage from 0 to 100 (10%), not '\(maxFail!)'") }
    }

    var maxFailPercent: Double? {
        guard let maxFail else { return nil }
        let number = maxFail.hasSuffix("%") ? String(maxFail.dropLast()) : maxFail
        guard let value = Double(number), value >= 0, value <= 100 else { return nil }
        return value
    }
}

/// The run every fleet subcommand shares.
struct FleetRun {
    var global: GlobalOptions
    var inventoryOptions: InventoryOptions
    var policyOptions: PolicyOptions
    var ssh: SSHConnectionOptions
    var fleet: FleetOptions
    var rollout: RolloutOptions?
    var action: DeployAction
    var rollbackTo: Int?

    /// A run that changes nothing (diff, backups): every selected host, default fleet options.
    static func readOnly(global: GlobalOptions, inventoryOptions: InventoryOptions, policyOptions: PolicyOptions,
                         ssh: SSHConnectionOptions) throws -> FleetRun {
        var fleet = try FleetOptions.parse([])
        fleet.all = true
        return FleetRun(global: global, inventoryOptions: inventoryOptions, policyOptions: policyOptions, ssh: ssh,
                        fleet: fleet, rollout: nil, action: .diff)
    }

    /// Renders and checks every selected host (nothing is sent anywhere unless all pass) and sets up the run.
    func prepare(log: Logger, verb: String) throws -> (jobs: [HostJob], settings: DeploySettings) {
        let (inventory, selected) = try inventoryOptions.loadSelected(log: log)
        let render = try policyOptions.fleetRender(log: log)
        let plan = DeployPlan.make(hosts: selected.map(\.name), inventory: inventory, fleet: render)
        if let status = reportPolicyProblems(plan.renderResults) {
            Terminal.writeStderr("fwctl: nothing sent to any host\n")
            throw ExitCode(status)
        }
        if !plan.problems.isEmpty {
            for problem in plan.problems { Terminal.writeStderr("fwctl: error: \(problem)\n") }
            Terminal.writeStderr("fwctl: nothing sent to any host\n")
            throw ExitCode(ExitStatus.invalidInput)
        }
        let unmanaged = plan.renderResults.filter { if case .unmanaged = $0.outcome { true } else { false } }.count
        if unmanaged > 0 { log.info("\(unmanaged) selected host\(unmanaged == 1 ? " has" : "s have") no firewall var and \(unmanaged == 1 ? "is" : "are") left alone") }
        if plan.jobs.isEmpty { log.warning("no selected host has a firewall to \(verb)") }

        let templates = try policyOptions.templatesDirectory()
        let scripts = try HostScripts(templates: try TemplateSet(directory: templates, options: .fwctl),
                                      generator: "fwctl \(FWCtlVersion.string)")
        var options = ssh.sshOptions(log: log, defaultTimeout: Double(300 + fleet.confirmTimeout))
        options.commandTimeout = min(options.hostTimeout, .seconds(120))
        var settings = DeploySettings(ssh: options, shell: HostShell(commandTimeout: options.commandTimeout),
                                      scripts: scripts, action: action)
        settings.confirmSeconds = fleet.confirmTimeout
        settings.keep = fleet.keep
        settings.rollbackTo = rollbackTo
        settings.user = SSHTarget.localUserName
        return (plan.jobs, settings)
    }

    /// Runs the hosts and appends their results to the audit log; returns the reports for the caller to print.
    func run(log: Logger, verb: String) throws -> [HostReport] {
        let (jobs, settings) = try prepare(log: log, verb: verb)
        let options = settings.ssh
        let user = settings.user
        var deployer = FleetDeployer(settings: settings)
        deployer.parallelism = ssh.parallelism(default: 20)
        if let rollout {
            deployer.canary = rollout.canary
            deployer.batch = rollout.batch.flatMap(BatchSize.init)
            deployer.maxFailPercent = rollout.maxFailPercent
        }
        let progress = DeployProgress(verb: verb, total: jobs.count, quiet: global.quiet)
        let stop = StopSignal()
        let interrupts = InterruptWatch(stop: stop, progress: progress)
        // Each host's line goes to the audit log as soon as it finishes, so a run killed half-way is recorded
        // as far as it got.
        let audit = action.changesRules ? AuditLog(path: fleet.auditLog.map { options.expandingTilde($0) } ?? AuditLog.defaultPath()) : nil
        let auditFailed = FirstTime()
        let onEvent = progress.callback
        let reports = deployer.run(jobs, stop: stop) { event in
            onEvent(event)
            guard let audit, let report = event.report else { return }
            do { try audit.append([report], user: user) } catch {
                if auditFailed.check() { log.error("\(error)") }
            }
        }
        interrupts.end()
        return reports
    }
}

/// True the first time only: to report a repeated failure once.
final class FirstTime: Sendable {
    private let seen = Mutex(false)
    func check() -> Bool {
        seen.withLock { seen in
            let first = !seen
            seen = true
            return first
        }
    }
}

/// Ctrl-C (and SIGTERM) during a run: stop starting hosts; hosts already running finish or roll back, so no revert
/// timer is ever left armed without fwctl watching it. A second Ctrl-C only says what is still running.
final class InterruptWatch {
    private let sources: [any DispatchSourceSignal]

    init(stop: StopSignal, progress: DeployProgress) {
        var sources: [any DispatchSourceSignal] = []
        for signalNumber in [SIGINT, SIGTERM] {
            signal(signalNumber, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: signalNumber, queue: .global())
            source.setEventHandler {
                if stop.reason == nil {
                    stop.stop("not started: interrupted")
                    progress.notice("interrupted: no more hosts start; hosts already running finish or roll back (their revert timers are armed)")
                } else {
                    progress.notice("still waiting for the running hosts to finish or roll back")
                }
            }
            source.resume()
            sources.append(source)
        }
        self.sources = sources
    }

    func end() {
        for source in sources { source.cancel() }
        signal(SIGINT, SIG_DFL)
        signal(SIGTERM, SIG_DFL)
    }
}

/// The report every fleet subcommand prints.
enum DeployReportOutput {
    static func write(_ reports: [HostReport], json: Bool) throws {
        if json {
            try Terminal.writeJSON(reports)
            return
        }
        let colour = Terminal.stdoutSupportsColour
        let header = ["HOST", "TARGET", "RESULT", "GEN", "TIME"]
        let cells = reports.map { report -> [String] in
            var generation = report.generation.map(String.init) ?? "-"
            if let restored = report.restoredGeneration { generation += " (loaded \(restored))" }
            return [report.host, report.target.rawValue, report.result.rawValue, generation, String(format: "%.2f s", report.seconds)]
        }
        try Terminal.writeResults(TextTable.render([header] + cells) { row, column, padded in
            guard row > 0, column == 2 else { return padded }
            let result = reports[row - 1].result
            return Terminal.paint(padded, result.isSuccess ? .green : result == .skipped ? .yellow : .red, enabled: colour)
        })
    }


    /// The reasons of hosts that did not end as asked, on stderr; exit 1 if there are any.
    static func finish(_ reports: [HostReport], log: Logger) throws {
        let failed = reports.filter { !$0.result.isSuccess }
        for report in failed {
            var line = "\(report.host): \(report.result.rawValue)"
            if let reason = report.reason { line += ": \(reason)" }
            if let detail = report.detail { line += " (\(detail))" }
            if report.result == .skipped { log.warning("\(line)") } else { log.error("\(line)") }
        }
        if !failed.isEmpty { throw HostsFailed(failed: failed.count, total: reports.count) }
    }
}
