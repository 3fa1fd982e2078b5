import ArgumentParser
import FWCommandLine
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

    @Option(help: ArgumentHelp("How many hosts to work on at once, 1-1024 (default: 32; deploy, diff, rollback: 20).", valueName: "n"))
    var parallel: Int?

    @Option(help: ArgumentHelp("Give up on a host after this many seconds, connecting included (ping: 30).", valueName: "seconds"))
    var timeout: Double?

    func validate() throws {
        if let parallel, !(1...1024).contains(parallel) {
            throw ValidationError("--parallel must be from 1 to 1024, not \(parallel)")
        }
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

    /// How many hosts at once: --parallel, else the subcommand's default.
    func parallelism(default fallback: Int = 32) -> Int { parallel ?? fallback }

    var runner: HostRunner { HostRunner(parallelism: parallelism()) }
}

extension HostProgressReporter {
    /// Pass to `HostRunner.run(progress:)`.
    var callback: @Sendable (HostProgress) -> Void {
        { [self] progress in
            report(host: progress.target.name, succeeded: progress.succeeded, reason: progress.reason,
                   finished: progress.finishedCount, total: progress.total, elapsed: progress.elapsed)
        }
    }
}
