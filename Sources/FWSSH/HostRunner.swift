import FWBase
import Foundation

/// What happened on one host.
public enum HostOutcome<Value: Sendable>: Sendable {
    case success(Value)
    /// The operation threw: an `SSHError` (with its step) or the caller's own error.
    case failure(any Error)
    /// A timeout ended the host's work: the connect or handshake timeout, a command's own timeout or the host's
    /// deadline (an `SSHError` with `step == .timeout`; `during` says which step).
    case timedOut(SSHError)

    public var value: Value? {
        if case .success(let value) = self { return value }
        return nil
    }

    public var error: (any Error)? {
        switch self {
        case .success: return nil
        case .failure(let error): return error
        case .timedOut(let error): return error
        }
    }

    public var succeeded: Bool { value != nil }
}

/// What one host of a `HostRunner` run ended in (FWPolicy's `FleetRender.HostRenderResult` is a render's).
public struct SSHHostResult<Value: Sendable>: Sendable {
    /// Position in the input.
    public let index: Int
    public let target: SSHTarget
    public let outcome: HostOutcome<Value>
    /// From the start of this host's work (not from when it was queued) to its end.
    public let elapsed: Duration
}

/// Reported as each host finishes, one call at a time (never concurrently), from worker threads.
public struct HostProgress: Sendable {
    public let index: Int
    public let target: SSHTarget
    public let succeeded: Bool
    /// A short reason for a failure ("unreachable", "host key unknown", ...; `SSHError.reason`), nil on success.
    public let reason: String?
    /// How many hosts have finished, this one included.
    public let finishedCount: Int
    public let total: Int
    public let elapsed: Duration
}

/// Runs an operation on many hosts at once, with at most `parallelism` at a time, each on a worker thread of our
/// own (blocking libssh2 calls never run on the Swift concurrency pool), and returns every host's result in input
/// order. One host's failure or timeout never affects another's.
public struct HostRunner: Sendable {
    public let parallelism: Int

    /// libssh2 and our binding recurse little; small stacks let a run use a thousand threads.
    static let stackSize = 1 << 20

    public init(parallelism: Int) {
        self.parallelism = max(1, parallelism)
    }

    /// The general form: `operation` gets the target and its deadline (`hostTimeout` from when it starts). An
    /// operation that connects itself should share one `JumpPool` for the run (`SSHSession.connect(...jumps:)`),
    /// so hosts behind a jump host share its sessions, and close it afterwards.
    public func run<Value: Sendable>(
        _ targets: [SSHTarget],
        hostTimeout: Duration,
        progress: (@Sendable (HostProgress) -> Void)? = nil,
        _ operation: @escaping @Sendable (SSHTarget, Deadline) throws -> Value
    ) -> [SSHHostResult<Value>] {
        var report: (@Sendable (ParallelProgress<SSHHostResult<Value>>) -> Void)?
        if let progress {
            report = { (finished: ParallelProgress<SSHHostResult<Value>>) in
                let result = finished.result
                let reason = result.outcome.error.map { ($0 as? SSHError)?.reason ?? "\($0)" }
                progress(HostProgress(
                    index: result.index, target: result.target, succeeded: result.outcome.succeeded, reason: reason,
                    finishedCount: finished.finishedCount, total: finished.total, elapsed: result.elapsed))
            }
        }
        let runner = ParallelRunner(parallelism: parallelism, stackSize: Self.stackSize)
        return runner.map(targets, progress: report) { (index: Int, target: SSHTarget) -> SSHHostResult<Value> in
            let started = ContinuousClock.now
            let outcome: HostOutcome<Value>
            do {
                outcome = .success(try operation(target, .after(hostTimeout)))
            } catch let error as SSHError where error.step == .timeout {
                outcome = .timedOut(error)
            } catch {
                outcome = .failure(error)
            }
            return SSHHostResult(index: index, target: target, outcome: outcome, elapsed: ContinuousClock.now - started)
        }
    }

    /// The usual form: connect (host key and auth checked), run `operation` on the session, close. The session's
    /// deadline is the host's; open a second session to the same host with `SSHSession.connect(to:options:deadline:
    /// session.deadline)` to stay within it.
    public func run<Value: Sendable>(
        _ targets: [SSHTarget],
        options: SSHOptions,
        progress: (@Sendable (HostProgress) -> Void)? = nil,
        _ operation: @escaping @Sendable (SSHSession) throws -> Value
    ) -> [SSHHostResult<Value>] {
        // One pool for the run: the hosts behind a jump host share its sessions.
        let jumps = JumpPool(options: options)
        defer { jumps.close() }
        return run(targets, hostTimeout: options.hostTimeout, progress: progress) { target, deadline in
            let session = try SSHSession.connect(to: target, options: options, deadline: deadline, jumps: jumps)
            defer { session.close() }
            return try operation(session)
        }
    }
}
