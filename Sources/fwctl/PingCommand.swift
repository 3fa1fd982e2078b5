import ArgumentParser
import FWCommandLine
import FWDeploy
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

            Jump hosts: `-J`, `-o ProxyJump=` or `-o ProxyCommand="ssh -W %h:%p ..."` in \
            ansible_ssh_common_args or ansible_ssh_extra_args; a jump host may be an inventory host (its own \
            ansible_host, port and user apply). One SSH session to a jump host carries all the hosts behind \
            it, and each inner host's key is checked under its own address, as OpenSSH's ProxyJump does. \
            Other ssh arguments are reported and ignored.

            With --become, also checks that sudo works as ansible_become_user (default root) for hosts with \
            ansible_become: `sudo -n true`, or with the password from ansible_become_password, \
            FWCTL_BECOME_PASSWORD or a prompt on the terminal, given on sudo's stdin (never on a command line).

            A passphrase for an encrypted key comes from FWCTL_SSH_PASSPHRASE, else it is asked for once \
            on the terminal.
            """)

    @OptionGroup var global: GlobalOptions
    @OptionGroup var inventoryOptions: InventoryOptions
    @OptionGroup var ssh: SSHConnectionOptions

    @Flag(help: "Print the results as JSON instead of a table.")
    var json = false

    @Flag(help: "Also check that commands can run as root: through sudo where ansible_become is set, else by logging in as root.")
    var become = false

    func execute(log: Logger) throws {
        let (inventory, hosts) = try inventoryOptions.loadSelected(log: log)
        let connections = try inventory.vars(of: hosts).map { try inventory.connection(from: $0) }
        for warning in connections.flatMap(\.warnings) { log.warning("\(warning)") }
        let targets = connections.map(SSHTarget.init)
        if targets.isEmpty { log.warning("the inventory has no hosts") }
        let options = ssh.sshOptions(log: log, defaultTimeout: 30)
        let reporter = HostProgressReporter(verb: "ping", quiet: global.quiet)
        let checkBecome = become
        let results = ssh.runner.run(targets, options: options, progress: reporter.callback) { session -> String? in
            let result = try session.exec("true")
            guard result.succeeded else {
                throw SSHError(.exec, host: session.target.name,
                               "`true` ended with \(result.outcomeDescription): \(result.stderrText.trimmingCharacters(in: .whitespacesAndNewlines))")
            }
            return checkBecome ? try session.checkBecome() : nil
        }
        let rows = results.map(PingRow.init)
        if json {
            try Terminal.writeJSON(rows)
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
    /// The jump hosts the connection went through, in order.
    var via: [String]
    /// With --become: the user commands that need root ran as (sudo's target, or the login user for root).
    var runsAs: String?

    init(_ result: SSHHostResult<String?>) {
        host = result.target.name
        address = result.target.address
        port = result.target.port
        user = result.target.user
        via = result.target.jumps.map(\.name)
        runsAs = result.outcome.value ?? nil
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
        let showVia = rows.contains { !$0.via.isEmpty }
        let header = ["HOST", "ADDRESS", "RESULT", "TIME"] + (showVia ? ["VIA"] : [])
        let cells = rows.map { row in
            [row.host, row.endpoint, row.result, String(format: "%.3f s", row.seconds)] + (showVia ? [row.via.joined(separator: ",")] : [])
        }
        return TextTable.render([header] + cells) { row, column, padded in
            guard row > 0, column == 2 else { return padded }
            return Terminal.paint(padded, rows[row - 1].ok ? .green : .red, enabled: colour)
        }
    }
}
