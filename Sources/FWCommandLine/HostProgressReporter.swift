import FWBase
import Synchronization

/// Progress of a many-host run on stderr: one line rewritten in place on a terminal, one line per finished host
/// otherwise (logs, CI). Silent with --quiet.
public final class HostProgressReporter: Sendable {
    private let verb: String
    private let quiet: Bool
    private let live = Terminal.stderrIsTTY
    private let failures = Mutex(0)

    public init(verb: String, quiet: Bool) {
        self.verb = verb
        self.quiet = quiet
    }

    /// One host finished (`finished` of `total`, this one included). Call one at a time, as the runners do.
    /// `reason` is a short word for a failure ("unreachable").
    public func report(host: String, succeeded: Bool, reason: String?, finished: Int, total: Int, elapsed: Duration) {
        guard !quiet else { return }
        let failed = failures.withLock { count in
            if !succeeded { count += 1 }
            return count
        }
        if live {
            let failedText = failed == 0 ? "" : ", " + Terminal.paint("\(failed) failed", .red, enabled: Terminal.stderrSupportsColour)
            Terminal.writeStderr("\r\u{1B}[K\(verb): \(finished)/\(total) done\(failedText)")
            if finished == total { Terminal.writeStderr("\n") }
        } else {
            let milliseconds = elapsed.components.seconds * 1000 + elapsed.components.attoseconds / 1_000_000_000_000_000
            let seconds = "\(milliseconds / 1000).\(String(milliseconds % 1000 + 1000).dropFirst())"  // %.3f, truncated
            let line = DisplayEscaping.escaped("\(host): \(succeeded ? "ok" : reason ?? "failed")")  // input name, remote reason
            Terminal.say("[\(finished)/\(total)] \(line) (\(seconds) s)")
        }
    }
}

/// Some hosts failed: the command exits 1 after its report (each host's reason has been printed already).
public struct HostsFailed: Error, CustomStringConvertible {
    public var failed: Int
    public var total: Int

    public init(failed: Int, total: Int) {
        self.failed = failed
        self.total = total
    }

    public var description: String { "\(failed) of \(total) host\(total == 1 ? "" : "s") failed" }
}
