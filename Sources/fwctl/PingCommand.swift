import ArgumentParser
import FWCommandLine
import FWInventory
import FWSSH
import Foundation
import Logging

/// `fwctl ping`: the check to run before a deploy, like `ansible -m ping`.
struct PingCommand: FWCommand {
    static let configuration = CommandConfiguration(
        commandName: "ping",
        abstract: "Check that every selected host can be reached over SSH: host key, login, a command.",
        discussion: """
            Like `ansible -m ping`: for each host (ansible_host, ansible_port, ansible_user, \
            ansible_ssh_private_key_file) connects, verifies the host key against known_hosts, logs in \
            (ssh-agent identities first, then key files) and runs `true`, many hosts at once. Prints a table \
            of host, address, result and time on stdout; progress and the full reason of each failure go to \
            stderr. Exits 1 if any host failed.

            A passphrase for an encrypted key comes from FWCTL_SSH_PASSPHRASE, else it is asked for once \
            on the terminal.
            """)

    @OptionGroup var global: GlobalOptions
    @OptionGroup var inventoryOptions: InventoryOptions
    @OptionGroup var ssh: SSHConnectionOptions

    @Flag(help: "Print the results as JSON instead of a table.")
    var json = false

    func execute(log: Logger) throws {
        let (inventory, hosts) = try inventoryOptions.loadSelected(log: log)
        let targets = try inventory.vars(of: hosts).map { SSHTarget(try inventory.connection(from: $0)) }
        if targets.isEmpty { log.warning("the inventory has no hosts") }
        let options = ssh.sshOptions(log: log, defaultTimeout: 30)
        let reporter = HostProgressReporter(verb: "ping", quiet: global.quiet)
        let results = ssh.runner.run(targets, options: options, progress: reporter.callback) { session in
            let result = try session.exec("true")
            guard result.succeeded else {
                throw SSHError(.exec, host: session.target.name,
                               "`true` ended with \(result.outcomeDescription): \(result.stderrText.trimmingCharacters(in: .whitespacesAndNewlines))")
            }
        }
        let rows = results.map(PingRow.init)
        if json {
            try Terminal.writeResults(Array(PingRow.json(rows)))
        } else {
            try Terminal.writeResults(PingRow.table(rows, colour: Terminal.stdoutSupportsColour))
        }
        let failed = results.filter { !$0.outcome.succeeded }
        for failure in failed {
            if let error = failure.outcome.error { log.error("\(error)") }
        }
        if !failed.isEmpty { throw HostsFailed(failed: failed.count, total: results.count) }
    }
}

/// One line of ping's output.
struct PingRow: Encodable {
    var host: String
    var address: String
    var port: Int
    var user: String
    var ok: Bool
    var result: String
    var step: String?
    var message: String?
    var seconds: Double

    init(_ result: SSHHostResult<Void>) {
        host = result.target.name
        address = result.target.address
        port = result.target.port
        user = result.target.user
        ok = result.outcome.succeeded
        seconds = (result.elapsed.secondsDouble * 1000).rounded() / 1000
        let error = result.outcome.error
        let sshError = error as? SSHError
        self.result = error == nil ? "ok" : sshError?.reason ?? "failed"
        step = sshError?.step.rawValue
        message = sshError?.message ?? error.map { "\($0)" }
    }

    var endpoint: String { address.contains(":") ? "[\(address)]:\(port)" : "\(address):\(port)" }

    static func table(_ rows: [PingRow], colour: Bool) -> String {
        let header = ["HOST", "ADDRESS", "RESULT", "TIME"]
        let cells = rows.map { [$0.host, $0.endpoint, $0.result, String(format: "%.3f s", $0.seconds)] }
        return TextTable.render([header] + cells) { row, column, padded in
            guard row > 0, column == 2 else { return padded }
            return Terminal.paint(padded, rows[row - 1].ok ? .green : .red, enabled: colour)
        }
    }

    static func json(_ rows: [PingRow]) throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        return try encoder.encode(rows) + Data("\n".utf8)
    }
}
