import ArgumentParser
import FWBase
import FWCommandLine
import FWDeploy
import FWInventory
import FWPolicy
import FWSSH
import FWTemplate
import FWTunnelDeploy
import Foundation
import Logging

/// What every tunnel subcommand takes besides the inventory: which tunnels, the templates, name resolution.
struct TunnelOptions: ParsableArguments {
    @Option(help: ArgumentHelp(
        "Only this tunnel (repeat for several). Default: every tunnel of the inventory, or with --limit every tunnel with an end on a matching host.",
        valueName: "name"))
    var name: [String] = []

    @Option(help: ArgumentHelp(
        "The templates folder. Default: $FWCTL_TEMPLATES, else ./templates, else the one installed beside fwctl.",
        valueName: "dir"))
    var templates: String?

    @Flag(help: "Look up ansible_host values that are DNS names (otherwise they are an error: allowlists need addresses).")
    var resolve = false
}

/// The inventory's tunnels, checked (every problem at once, exit 2) and selected by --name, with the connection of
/// every host they involve.
struct TunnelSelection {
    var inventory: Inventory
    var plans: [TunnelPlan]
    var targets: [String: SSHTarget]
    var book: AddressBook

    static func load(_ inventoryOptions: InventoryOptions, _ options: TunnelOptions, log: Logger, connections: Bool) throws -> TunnelSelection {
        let (inventory, limited) = try inventoryOptions.loadSelected(log: log)
        let book = AddressBook(inventory: inventory, resolution: options.resolve ? .systemResolver : .literalsOnly)
        let catalog = book.tunnelCatalog
        if !catalog.errors.isEmpty {
            for (problem, _) in PolicyErrors(catalog.errors).grouped() { Terminal.sayError(problem.describe(hosts: [])) }
            Terminal.say("\(catalog.errors.count) problem\(catalog.errors.count == 1 ? "" : "s") in the tunnels list; nothing sent to any host")
            throw ExitCode(ExitStatus.invalidInput)
        }
        var plans = catalog.tunnels
        if !options.name.isEmpty {
            let unknown = options.name.filter { name in !plans.contains { $0.name == name } }
            guard unknown.isEmpty else {
                let known = plans.map(\.name).joined(separator: ", ")
                Terminal.sayError("no tunnel named \(unknown.map { DisplayEscaping.quotedName($0) }.joined(separator: ", ")) in the inventory (tunnels: \(known.isEmpty ? "none" : known))")
                throw ExitCode(ExitStatus.invalidInput)
            }
            plans = plans.filter { options.name.contains($0.name) }
        }
        if inventoryOptions.limit != nil {
            // --limit picks tunnels by their hosts: every tunnel with an end on a host it matches, all ends of it
            // (an end alone cannot be installed: the secret and home's certificate tie them together).
            let hosts = Set(limited.map(\.name))
            plans = plans.filter { plan in ([plan.home] + plan.work).contains { hosts.contains($0) } }
            if plans.isEmpty { log.warning("no tunnel has an end on the hosts --limit matches") }
        } else if plans.isEmpty {
            log.warning("the inventory has no tunnels (a tunnels list in its vars)")
        }
        var targets: [String: SSHTarget] = [:]
        if connections {
            var problems: [String] = []
            for host in Set(plans.flatMap { [$0.home] + $0.work }).sorted() {
                do {
                    guard let vars = inventory.vars(of: host) else { continue }
                    let target = SSHTarget(try inventory.connection(from: vars))
                    if let become = target.become, become.user != "root" {
                        throw DeployError("host '\(host)': ansible_become_user is \(become.user.debugDescription); fwctl installs tunnels as root: set ansible_become_user: root or leave it out")
                    }
                    targets[host] = target
                } catch {
                    problems.append("\(error)")
                }
            }
            if !problems.isEmpty {
                for problem in problems { Terminal.sayError(problem) }
                Terminal.say("nothing sent to any host")
                throw ExitCode(ExitStatus.invalidInput)
            }
        }
        return TunnelSelection(inventory: inventory, plans: plans, targets: targets, book: book)
    }

    /// The selection with every host's connection, the installer as the options say, and the run's jump pool
    /// (close it when done): what install, status and uninstall start with.
    static func prepare(_ inventoryOptions: InventoryOptions, _ options: TunnelOptions, ssh: SSHConnectionOptions, binaries: String? = nil,
                        log: Logger) throws -> (selection: TunnelSelection, installer: TunnelInstaller, jumps: JumpPool) {
        let selection = try load(inventoryOptions, options, log: log, connections: true)
        let installer = try installer(options, ssh: ssh, binaries: binaries, log: log)
        return (selection, installer, JumpPool(options: installer.settings.ssh))
    }

    /// The installer as the options say.
    static func installer(_ options: TunnelOptions, ssh: SSHConnectionOptions, binaries: String?, log: Logger) throws -> TunnelInstaller {
        let directory = try PolicyOptions.templatesDirectory(option: options.templates)
        let scripts = try TunnelScripts(templates: try TemplateSet(directory: directory, options: .fwctl), generator: "fwctl \(FWCtlVersion.string)")
        var sshOptions = ssh.sshOptions(log: log, defaultTimeout: 300)
        sshOptions.commandTimeout = min(sshOptions.hostTimeout, .seconds(120))
        var settings = TunnelSettings(ssh: sshOptions, shell: HostShell(commandTimeout: sshOptions.commandTimeout), scripts: scripts,
                                      binaries: TunnelBinaries(directory: binaries ?? TunnelBinaries.besideThisExecutable))
        settings.parallelism = ssh.parallelism(default: 16)
        return TunnelInstaller(settings: settings)
    }
}

/// One line per finished end on stderr (progress), silent with --quiet.
struct TunnelProgress {
    let quiet: Bool
    var callback: @Sendable (TunnelEvent) -> Void {
        let quiet = quiet
        return { event in
            guard !quiet, let report = event.report else { return }
            var line = "\(event.tunnel): \(event.host) (\(event.role.rawValue)): \(report.result.rawValue)"
            if !report.changed.isEmpty { line += " [\(report.changed.joined(separator: ","))]" }
            line += String(format: " (%.2f s)", report.seconds)
            Terminal.say(DisplayEscaping.escaped(line))
        }
    }
}

/// The table and --json of install and uninstall, and the exit status.
enum TunnelReportOutput {
    static func write(_ reports: [TunnelReport], json: Bool) throws {
        if json {
            try Terminal.writeJSON(reports)
            return
        }
        let header = ["TUNNEL", "HOST", "ROLE", "RESULT", "CHANGED", "PID", "TIME"]
        let rows = reports.flatMap { report in
            report.ends.map { end in
                [end.tunnel, end.host, end.role.rawValue, end.result.rawValue, end.changed.isEmpty ? "-" : end.changed.joined(separator: ","),
                 end.pid.map(String.init) ?? "-", String(format: "%.2f s", end.seconds)]
            }
        }
        var text = TextTable.render([header] + rows)
        for report in reports where report.verified != nil {
            text += "\(report.tunnel): \(report.agentsConnected ?? 0)/\(report.agentsExpected ?? 0) agents connected, "
                + "\(report.idleDataConnections ?? 0) idle data connections, test connection \(report.probe ?? "not made"): "
                + "\(report.verified == true ? "answers end to end" : "NOT verified")\n"
        }
        try Terminal.writeResults(text)
    }

    static func finish(_ reports: [TunnelReport], log: Logger) throws {
        var failed = 0
        for report in reports {
            for end in report.ends where !end.result.isSuccess {
                failed += 1
                log.error("\(end.tunnel): \(end.host) (\(end.role.rawValue)): \(end.result.rawValue)\(end.reason.map { ": \($0)" } ?? "")")
            }
            if report.verified == false {
                failed += 1
                log.error("\(report.tunnel): \(report.reason ?? "not verified")")
            }
        }
        if failed > 0 { throw HostsFailed(failed: failed, total: reports.reduce(0) { $0 + $1.ends.count }) }
    }
}
