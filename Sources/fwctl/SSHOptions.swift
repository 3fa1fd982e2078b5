import ArgumentParser
import FWInventory
import FWSSH
import Foundation
import Logging

/// The options of every subcommand that connects to hosts (ping, deploy, tunnel install): how host keys are
/// checked, how many hosts at once, and how long one host may take.
struct SSHConnectionOptions: ParsableArguments {
    @Option(help: ArgumentHelp("The OpenSSH known_hosts file to check host keys against (default: ~/.ssh/known_hosts).",
                               valueName: "file"))
    var knownHosts: String?

    @Flag(help: "Record the keys of hosts not in known_hosts yet (like StrictHostKeyChecking=accept-new). A changed key is still refused.")
    var acceptNew = false

    @Option(help: ArgumentHelp("How many hosts to work on at once (1-1024).", valueName: "n"))
    var parallel = 32

    @Option(help: ArgumentHelp("Give up on a host after this many seconds, connecting included (ping: 30).", valueName: "seconds"))
    var timeout: Double?

    func validate() throws {
        guard (1...1024).contains(parallel) else { throw ValidationError("--parallel must be from 1 to 1024, not \(parallel)") }
        if let timeout, !(timeout > 0 && timeout <= 86_400) {
            throw ValidationError("--timeout must be a number of seconds above 0 (at most 86400), not \(timeout)")
        }
    }

    /// The library options for these flags; `defaultTimeout` is the subcommand's own per-host budget.
    func sshOptions(log: Logger, defaultTimeout: Double) -> SSHOptions {
        var options = SSHOptions(logger: log)
        if let knownHosts { options.knownHostsFile = options.expandingTilde(knownHosts) }
        options.acceptNewHostKeys = acceptNew
        let hostTimeout = Duration.milliseconds(Int64((timeout ?? defaultTimeout) * 1000))
        options.hostTimeout = hostTimeout
        options.connectTimeout = min(.seconds(10), hostTimeout)
        options.commandTimeout = hostTimeout
        return options
    }

    var runner: HostRunner { HostRunner(parallelism: parallel) }
}

extension SSHTarget {
    /// A host's inventory connection vars (ansible_host, ansible_port, ansible_user, ansible_ssh_private_key_file,
    /// the jump hosts of its ssh arguments, ansible_become...) as a target. Without ansible_user, the local user
    /// name, as in Ansible and OpenSSH; a jump host's user likewise (ssh -J does not pass the inner host's user on).
    init(_ connection: Connection) {
        let jumps = connection.jumpHosts.map { SSHTarget($0.connection) }
        let become = connection.become.map { Become(user: $0.user, password: $0.password.map { SecretText($0.text) }) }
        self.init(name: connection.name, address: connection.address, port: connection.effectivePort,
                  user: connection.user, identityFiles: connection.privateKeyFile.map { [$0] } ?? [],
                  jumps: jumps, become: become)
    }
}
