import Dispatch
#if canImport(Glibc)
import Glibc
#endif

/// The daemons' signal handling: SIGHUP calls `reload`, SIGTERM and SIGINT end `waitForTermination`.
public enum ProcessSignals {
    /// Suspends the calling task until SIGTERM or SIGINT (returned); SIGHUP runs `reload` meanwhile.
    /// A write to a connection its peer has closed fails with EPIPE instead of ending the process. Called first
    /// thing: relays may run while the daemon is still starting.
    public static func ignoreBrokenPipes() {
        signal(SIGPIPE, SIG_IGN)
    }

    public static func waitForTermination(reload: @escaping @Sendable () -> Void) async -> Int32 {
        for number in [SIGHUP, SIGTERM, SIGINT] { signal(number, SIG_IGN) }
        let queue = DispatchQueue(label: "fwtunnel.signals")
        let box = TerminationBox()
        let hangup = DispatchSource.makeSignalSource(signal: SIGHUP, queue: queue)
        hangup.setEventHandler(handler: reload)
        hangup.resume()
        let sources = [SIGTERM, SIGINT].map { number in
            let source = DispatchSource.makeSignalSource(signal: number, queue: queue)
            source.setEventHandler { box.received(number) }
            source.resume()
            return source
        }
        let received = await withCheckedContinuation { continuation in queue.async { box.wait(continuation) } }
        for source in sources + [hangup] { source.cancel() }
        return received
    }
}

/// The first terminating signal and the task waiting for it.
private final class TerminationBox: @unchecked Sendable {
    // @unchecked: both methods run only on the one serial signal queue.
    private var signal: Int32?
    private var continuation: CheckedContinuation<Int32, Never>?

    func received(_ number: Int32) {
        guard signal == nil else { return }
        signal = number
        continuation?.resume(returning: number)
        continuation = nil
    }

    func wait(_ continuation: CheckedContinuation<Int32, Never>) {
        if let signal { continuation.resume(returning: signal) } else { self.continuation = continuation }
    }
}
