import NIOCore
import Synchronization

/// Every connection a daemon has open on its event loops, so that stopping closes them while the loops still run.
/// Shutting the loops down would close them too, but loop by loop: a relay closing on one loop hands its partner
/// the end on the partner's loop, which may have stopped already, and NIO refuses that work (and says so).
final class LiveChannels: Sendable {
    private let state = Mutex<(open: [ObjectIdentifier: Channel], closing: Bool)>(([:], false))

    /// Tracks `channel` until it closes; once `closeAll` has begun, closes it instead.
    func add(_ channel: Channel) {
        let tracked = state.withLock { state -> Bool in
            guard !state.closing else { return false }
            state.open[ObjectIdentifier(channel)] = channel
            return true
        }
        guard tracked else {
            channel.close(promise: nil)
            return
        }
        // The closure holds the channel, so its identifier is not reused while it is tracked.
        channel.closeFuture.whenComplete { [self] _ in
            _ = state.withLock { $0.open.removeValue(forKey: ObjectIdentifier(channel)) }
        }
    }

    /// Closes every tracked channel, and every one added from now on, and returns when all of them are closed.
    func closeAll() async {
        let open = state.withLock { state in
            state.closing = true
            return Array(state.open.values)
        }
        for channel in open { channel.close(promise: nil) }
        for channel in open { try? await channel.closeFuture.get() }
    }
}
