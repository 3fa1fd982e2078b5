import FWBase
import FWSSH
import Foundation
import Synchronization

/// Progress of a many-host run on stderr: one line rewritten in place on a terminal, one line per finished host
/// otherwise (logs, CI). Silent with --quiet.
final class HostProgressReporter: Sendable {
    private let verb: String
    private let quiet: Bool
    private let live = Terminal.stderrIsTTY
    private let failures = Mutex(0)

    init(verb: String, quiet: Bool) {
        self.verb = verb
        self.quiet = quiet
    }

    /// Pass to `HostRunner.run(progress:)`; calls arrive one at a time.
    var callback: @Sendable (HostProgress) -> Void {
        { [self] progress in report(progress) }
    }

    private func report(_ progress: HostProgress) {
        guard !quiet else { return }
        let failed = failures.withLock { count in
            if !progress.succeeded { count += 1 }
            return count
        }
        if live {
            let failedText = failed == 0 ? "" : ", " + Terminal.paint("\(failed) failed", .red, enabled: Terminal.stderrSupportsColour)
            Terminal.writeStderr("\r\u{1B}[K\(verb): \(progress.finishedCount)/\(progress.total) done\(failedText)")
            if progress.finishedCount == progress.total { Terminal.writeStderr("\n") }
        } else {
            let result = progress.succeeded ? "ok" : (progress.reason ?? "failed")
            let time = String(format: "%.3f s", progress.elapsed.secondsDouble)
            let line = DisplayEscaping.escaped("\(progress.target.name): \(result)")  // input name, remote reason
            Terminal.writeStderr("fwctl: [\(progress.finishedCount)/\(progress.total)] \(line) (\(time))\n")
        }
    }
}

/// Some hosts failed: the subcommand exits 1 after its report (each host's reason has been printed already).
struct HostsFailed: Error, CustomStringConvertible {
    var failed: Int
    var total: Int
    var description: String { "\(failed) of \(total) host\(total == 1 ? "" : "s") failed" }
}
