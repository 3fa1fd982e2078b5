import FWSSH
import Foundation

/// The one place a remote command line is built and run: every script fwctl runs on a host goes through here.
///
/// The line is `timeout -k 5 N sh -s` with the script on stdin (so nothing of it appears in the host's process list
/// and no argv limit applies), run as root: directly for a root login, else through the host's become (`sudo -S -p
/// ''` with the password, when sudo wants one, as the first stdin line ahead of the script; never in argv). The files
/// travel inside the script, so they are written by root and no upload step is needed.
public struct HostShell: Sendable {
    /// The most one script may take on the host. `timeout` enforces it there (libssh2 1.10 cannot signal a remote
    /// command), and the wait here ends a few seconds after it.
    public var commandTimeout: Duration

    public init(commandTimeout: Duration = .seconds(120)) {
        self.commandTimeout = commandTimeout
    }

    /// `timeout -k 5 N sh -s`: SIGTERM after N s, SIGKILL 5 s later; the revert timer escapes it (setsid).
    public var commandLine: String {
        "timeout -k 5 \(Self.wholeSeconds(commandTimeout)) sh -s"
    }

    /// Runs a rendered script on the host as root and reads its report. A login that is not root and has no become,
    /// or whose sudo refuses, fails here with a `.become` error saying so (nothing has run on the host then).
    public func run(_ script: [UInt8], on session: SSHSession) throws -> ScriptReport {
        let result = try session.run(commandLine, asRoot: true, stdin: Data(script), timeout: commandTimeout + .seconds(10))
        let report = ScriptReport(result.stdoutText)
        if report.result == nil {
            // The script reports on every path it can; no result means it was killed or the shell failed.
            let said = result.stderrText.trimmingCharacters(in: .whitespacesAndNewlines)
            let why = result.status == 124 ? "timed out after \(Self.wholeSeconds(commandTimeout)) s" : result.outcomeDescription
            throw DeployError("the on-host script ended without a result (\(why))\(said.isEmpty ? "" : ": " + String(said.prefix(400)))")
        }
        return report
    }

    static func wholeSeconds(_ duration: Duration) -> Int64 {
        max(1, Int64(duration.secondsDouble.rounded(.up)))
    }
}

/// A deploy step failed on a host for a reason of its own (not an SSH failure).
public struct DeployError: Error, Sendable, CustomStringConvertible {
    public var description: String
    public init(_ description: String) { self.description = description }
}
