import Foundation
import Synchronization

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

public struct HostResult<Value: Sendable>: Sendable {
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

/// Runs an operation on many hosts at once, with at most `parallelism` at a time, each on its own POSIX thread,
/// and returns every host's result in input order. One host's failure or timeout never affects another's.
public struct HostRunner: Sendable {
    public let parallelism: Int

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
    ) -> [HostResult<Value>] {
        let state = RunState<Value>(count: targets.count)
        let total = targets.count
        let work: @Sendable () -> Void = {
            while let index = state.claim() {
                let target = targets[index]
                let started = ContinuousClock.now
                let outcome: HostOutcome<Value>
                do {
                    outcome = .success(try operation(target, .after(hostTimeout)))
                } catch let error as SSHError where error.step == .timeout {
                    outcome = .timedOut(error)
                } catch {
                    outcome = .failure(error)
                }
                let elapsed = ContinuousClock.now - started
                state.store(HostResult(index: index, target: target, outcome: outcome, elapsed: elapsed))
                state.reportFinished(progress) { finished in
                    let reason = outcome.error.map { ($0 as? SSHError)?.reason ?? "\($0)" }
                    return HostProgress(index: index, target: target, succeeded: outcome.succeeded, reason: reason,
                                        finishedCount: finished, total: total, elapsed: elapsed)
                }
            }
        }
        var threads: [WorkerThread] = []
        for _ in 0..<min(parallelism, targets.count) {
            guard let thread = WorkerThread(work) else { break }
            threads.append(thread)
        }
        if threads.isEmpty && !targets.isEmpty { work() }  // no thread could be made: do it here, one by one
        threads.forEach { $0.join() }
        return state.results()
    }

    /// The usual form: connect (host key and auth checked), run `operation` on the session, close. The session's
    /// deadline is the host's; open a second session to the same host with `SSHSession.connect(to:options:deadline:
    /// session.deadline)` to stay within it.
    public func run<Value: Sendable>(
        _ targets: [SSHTarget],
        options: SSHOptions,
        progress: (@Sendable (HostProgress) -> Void)? = nil,
        _ operation: @escaping @Sendable (SSHSession) throws -> Value
    ) -> [HostResult<Value>] {
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

/// Shared by the worker threads of one run. All mutable state sits behind Mutexes, so it is Sendable as is.
private final class RunState<Value: Sendable>: Sendable {
    private let next = Mutex(0)
    private let slots: Mutex<[HostResult<Value>?]>
    private let progressLock = Mutex(0)
    private let count: Int

    init(count: Int) {
        self.count = count
        slots = Mutex(Array(repeating: nil, count: count))
    }

    /// The next input index to work on, or nil when all are taken.
    func claim() -> Int? {
        next.withLock { next in
            guard next < count else { return nil }
            defer { next += 1 }
            return next
        }
    }

    func store(_ result: HostResult<Value>) {
        slots.withLock { $0[result.index] = result }
    }

    /// Counts a finished host and calls `progress` under the same lock, so calls never overlap and finished counts
    /// arrive in order.
    func reportFinished(_ progress: (@Sendable (HostProgress) -> Void)?, _ make: (Int) -> HostProgress) {
        progressLock.withLock { finished in
            finished += 1
            progress?(make(finished))
        }
    }

    func results() -> [HostResult<Value>] {
        slots.withLock { slots in slots.compactMap { $0 } }
    }
}
