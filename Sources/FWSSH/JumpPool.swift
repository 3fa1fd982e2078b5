import Foundation
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// The jump host sessions of one run, shared by every host behind them: one SSH session to a jump host carries the
/// connections to all the hosts behind it (as many as `SSHOptions.channelsPerJump` at once; beyond that a second
/// session to the same jump host is opened), instead of one jump connection per inner host as `ssh -J` makes.
///
/// A jump host that cannot be reached (or whose key or login is refused) is tried once per run: every host behind
/// it then fails at once with that reason, naming the jump host. Chains (`ProxyJump a,b`) nest: the session to `b`
/// itself runs through a channel of the hub for `a`.
///
/// `close()` (HostRunner calls it when the run ends) stops every hub, innermost first.
public final class JumpPool: Sendable {
    private let options: SSHOptions
    private let lines = Mutex<[[SSHTarget]: JumpLine]>([:])
    private let closed = Mutex(false)

    public init(options: SSHOptions) {
        self.options = options
    }

    deinit { close() }

    /// A transport to `target` through its jumps: the caller's end of a socketpair whose other end is pumped to a
    /// direct-tcpip channel from the last jump host to the target's address and port.
    func link(to target: SSHTarget, deadline: Deadline) throws -> JumpLink {
        let chain = target.jumps
        guard chain.count <= Self.maxChainLength else {
            throw SSHError(.connect, host: target.name,
                           "\(chain.count) jump hosts in a row; fwctl goes through at most \(Self.maxChainLength)")
        }
        let jump = chain.last!
        do {
            return try line(for: chain).link(name: target.name, host: target.address, port: target.port, deadline: deadline)
        } catch let error as SSHError where error.host == jump.name {
            throw error.behind(jump: jump.name, host: target.name)
        }
    }

    static let maxChainLength = 4

    private func line(for chain: [SSHTarget]) throws -> JumpLine {
        if closed.withLock({ $0 }) {
            throw SSHError(.connect, host: chain.last!.name, "the run is over; its jump host sessions are closed")
        }
        return lines.withLock { lines in
            if let line = lines[chain] { return line }
            let line = JumpLine(chain: chain, pool: self, options: options)
            lines[chain] = line
            return line
        }
    }

    /// Stops every hub and waits for their threads; later `link` calls fail. Safe to call twice.
    public func close() {
        guard closed.withLock({ done in defer { done = true }; return !done }) else { return }
        let all = lines.withLock { lines in lines.values.sorted { $0.chain.count > $1.chain.count } }
        for line in all { line.close() }
    }
}

/// All sessions to one jump chain: the hubs open now, or the reason the jump host cannot be used in this run.
private final class JumpLine: Sendable {
    let chain: [SSHTarget]
    private unowned let pool: JumpPool
    private let options: SSHOptions
    private struct State {
        var hubs: [JumpHub] = []
        var failure: SSHError?
    }
    private let state = Mutex(State())

    init(chain: [SSHTarget], pool: JumpPool, options: SSHOptions) {
        self.chain = chain
        self.pool = pool
        self.options = options
    }

    /// A channel on a hub with room, opening a new session to the jump host if none has. The lock is held while
    /// connecting, so hosts arriving meanwhile wait for that one session instead of each opening their own.
    func link(name: String, host: String, port: Int, deadline: Deadline) throws -> JumpLink {
        try state.withLock { state in
            if let failure = state.failure { throw failure }
            state.hubs.removeAll { $0.isFinished }
            for hub in state.hubs {
                if let link = hub.link(name: name, host: host, port: port) { return link }
            }
            var jump = chain.last!
            jump.jumps = Array(chain.dropLast())
            let session: SSHSession
            do {
                session = try SSHSession.connect(to: jump, options: options, deadline: deadline, jumps: pool)
            } catch let error as SSHError {
                // A timeout of this host's own budget says nothing about the jump host: let the next host try.
                if !(error.step == .timeout && deadline.hasPassed) { state.failure = error }
                throw error
            }
            let hub = JumpHub(session: session, capacity: options.channelsPerJump)
            state.hubs.append(hub)
            guard let link = hub.link(name: name, host: host, port: port) else {
                throw SSHError(.connect, host: jump.name, "the new session could not take a channel")
            }
            return link
        }
    }

    func close() {
        let hubs = state.withLock { state in
            defer { state.hubs = [] }
            return state.hubs
        }
        for hub in hubs { hub.stop() }
    }
}

/// One inner connection carried by a jump hub: `socket` is the session's transport; `failure` is set (before the
/// hub closes its end) when the jump host could not open the channel or lost it.
final class JumpLink: Sendable {
    let socket: Int32
    /// The inner host's name, for messages.
    let name: String
    let host: String
    let port: Int
    /// The hub's end of the socketpair.
    let hubSocket: Int32
    private let failureReason = Mutex<SSHError?>(nil)

    init(socket: Int32, hubSocket: Int32, name: String, host: String, port: Int) {
        self.socket = socket
        self.name = name
        self.hubSocket = hubSocket
        self.host = host
        self.port = port
    }

    var failure: SSHError? { failureReason.withLock { $0 } }

    func fail(_ error: SSHError) {
        failureReason.withLock { if $0 == nil { $0 = error } }
    }
}
