import CLibSSH2
import FWBase
import Foundation
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// One session to a jump host, carrying the connections of many inner hosts at once, each as a `direct-tcpip`
/// channel (what `ssh -W host:port` asks for) pumped to and from one end of a socketpair; the inner host's
/// SSHSession runs over the other end as over a TCP socket. The session and its channels live on the hub's own
/// thread (libssh2 sessions are used by one thread at a time); other threads only queue links and wake it.
final class JumpHub: Sendable {
    let jumpName: String
    private let capacity: Int
    /// A socketpair that wakes the hub's poll() when a link is queued or the hub is stopped (read end, write end).
    private let wake: (read: Int32, write: Int32)
    private struct Shared {
        var queued: [JumpLink] = []
        /// Links queued or open, counted against `capacity` until the hub has closed them.
        var inUse = 0
        var stopping = false
        var finished = false
    }
    private let shared = Mutex(Shared())
    private let thread = Mutex<JoinHandle?>(nil)

    /// Takes over `session` (the caller must not use it again) and starts the hub's thread.
    init(session: SSHSession, capacity: Int) {
        jumpName = session.target.name
        self.capacity = max(1, capacity)
        var ends: [Int32] = [-1, -1]
        if socketpair(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_NONBLOCK.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0, &ends) != 0 {
            ends = [-1, -1]
        }
        wake = (ends[0], ends[1])
        let handOver = SessionHandOver(session)
        let worker = try? WorkerThread { [self] in
            JumpPump(hub: self, session: handOver.take()).run()
        }
        if let worker {
            let handle = JoinHandle(worker)
            thread.withLock { $0 = handle }
        } else {
            handOver.take().close()
            shared.withLock { $0.finished = true }
        }
    }

    deinit {
        if wake.read >= 0 { Glibc.close(wake.read) }
        if wake.write >= 0 { Glibc.close(wake.write) }
    }

    var isFinished: Bool { shared.withLock { $0.finished || $0.stopping } }

    /// A new link to `host:port`, or nil when the hub is full or finished.
    func link(name: String, host: String, port: Int) -> JumpLink? {
        let link: JumpLink? = shared.withLock { shared in
            guard !shared.finished, !shared.stopping, shared.inUse < capacity else { return nil }
            var pair: [Int32] = [-1, -1]
            guard socketpair(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_NONBLOCK.rawValue) | Int32(SOCK_CLOEXEC.rawValue),
                             0, &pair) == 0 else { return nil }
            let link = JumpLink(socket: pair[0], hubSocket: pair[1], name: name, host: host, port: port)
            shared.inUse += 1
            shared.queued.append(link)
            return link
        }
        if link != nil { signal() }
        return link
    }

    /// Ends every link and the session, and waits for the hub's thread.
    func stop() {
        shared.withLock { $0.stopping = true }
        signal()
        let worker = thread.withLock { worker in defer { worker = nil }; return worker }
        worker?.thread.join()
    }

    // MARK: Called by the hub's thread

    fileprivate var wakeDescriptor: Int32 { wake.read }

    fileprivate func takeQueued() -> (links: [JumpLink], stopping: Bool) {
        var bytes = [UInt8](repeating: 0, count: 256)
        while read(wake.read, &bytes, bytes.count) > 0 {}
        return shared.withLock { shared in
            defer { shared.queued = [] }
            return (shared.queued, shared.stopping)
        }
    }

    fileprivate func release() { shared.withLock { $0.inUse -= 1 } }

    fileprivate func markFinished() { shared.withLock { $0.finished = true } }

    private func signal() {
        var one: UInt8 = 1
        _ = write(wake.write, &one, 1)  // a full pipe is fine: the hub is awake already
    }
}

/// The hub's thread, joined once by `stop()`. @unchecked: the handle is taken out of the hub's Mutex before the
/// join, so only one thread ever calls it.
private final class JoinHandle: @unchecked Sendable {
    let thread: WorkerThread
    init(_ thread: WorkerThread) { self.thread = thread }
}

/// Moves the jump session from the thread that connected it to the hub's thread, which is its only user from then
/// on. @unchecked: `take()` is called once, by the hub's thread (or by init when no thread could be started).
private final class SessionHandOver: @unchecked Sendable {
    private var session: SSHSession?
    init(_ session: SSHSession) { self.session = session }
    func take() -> SSHSession {
        defer { session = nil }
        return session!
    }
}

/// The hub's thread: opens queued channels one at a time (libssh2 has one direct-tcpip state per session) and
/// copies bytes both ways between each channel and its socketpair end, through bounded buffers.
///
/// libssh2 rule kept here: a call that returned EAGAIN while sending must be repeated, with the same arguments,
/// before any other call that sends on the session, or libssh2 fails with LIBSSH2_ERROR_BAD_USE. `pending` holds
/// that call; while it is set nothing else is tried.
private final class JumpPump {
    private let hub: JumpHub
    private let session: SSHSession
    private var opening: [JumpLink] = []
    private var pipes: [Pipe] = []
    private var pending: Pending?

    private enum Pending {
        case open
        case write(Pipe)
        case read(Pipe)
        case eof(Pipe)
        case close(Pipe)
    }

    init(hub: JumpHub, session: SSHSession) {
        self.hub = hub
        self.session = session
    }

    private var raw: OpaquePointer { session.raw }

    func run() {
        defer {
            let reason = SSHError(.connect, host: hub.jumpName, "the session to jump host \(hub.jumpName) was closed")
            for link in opening { end(link, reason) }
            for pipe in pipes { end(pipe.link, reason) }
            opening = []
            pipes = []
            session.close()
            hub.markFinished()
        }
        while true {
            let (links, stopping) = hub.takeQueued()
            opening += links
            if stopping { return }
            var progressed = false
            do {
                if let pending {
                    progressed = try retry(pending)
                } else {
                    for pipe in pipes where pending == nil {
                        progressed = try pump(pipe) || progressed
                    }
                    // After the pipes: their reads may have brought the confirmations of channels being opened.
                    if pending == nil { progressed = try openQueued() || progressed }
                }
                for pipe in pipes where pipe.state == .closed {
                    session.log.trace("channel to \(pipe.link.host) port \(pipe.link.port) closed")
                    Glibc.close(pipe.link.hubSocket)
                    hub.release()
                }
                pipes.removeAll { $0.state == .closed }
            } catch let error as SSHError {
                session.brokenReason = session.brokenReason ?? error.message
                for link in opening { end(link, error) }
                for pipe in pipes { end(pipe.link, error) }
                opening = []
                pipes = []
                return
            } catch {
                return
            }
            if !progressed { waitForWork() }
        }
    }

    /// A link that never got (or lost) its channel: say why, then close the hub's end so the inner session stops.
    private func end(_ link: JumpLink, _ error: SSHError) {
        link.fail(error.behind(jump: hub.jumpName, host: link.name))
        Glibc.close(link.hubSocket)
        hub.release()
    }

    // MARK: Steps; each returns whether it moved anything

    private func openQueued() throws -> Bool {
        var progressed = false
        while let link = opening.first, pending == nil {
            let channel = libssh2_channel_direct_tcpip_ex(raw, link.host, Int32(link.port), "127.0.0.1", 22)
            if let channel {
                opening.removeFirst()
                session.log.trace("direct-tcpip channel to \(link.host) port \(link.port) open (\(pipes.count + 1) open)")
                pipes.append(Pipe(link: link, channel: channel))
                progressed = true
                continue
            }
            let (code, message) = LibSSH2.lastError(raw)
            if code == LibSSH2.eagain {
                if sending { pending = .open; session.log.trace("channel open waits to send") }
                return progressed
            }
            try checkTransport(code)
            opening.removeFirst()
            let endpoint = link.host.contains(":") ? "[\(link.host)]:\(link.port)" : "\(link.host) port \(link.port)"
            link.fail(SSHError(.connect, host: link.name,
                               "jump host \(hub.jumpName) could not open a connection to \(endpoint): \(message) (is sshd running there, and may \(hub.jumpName) reach it?)"))
            Glibc.close(link.hubSocket)
            hub.release()
            progressed = true
        }
        return progressed
    }

    private var retries = 0

    private func retry(_ call: Pending) throws -> Bool {
        retries += 1
        if retries <= 3 || retries % 1000 == 0 { session.log.trace("repeating a call that waits to send (\(retries) so far): \(call)") }
        pending = nil
        switch call {
        case .open: return try openQueued()
        case .write(let pipe): return try toChannel(pipe)
        case .read(let pipe): return try toSocket(pipe)
        case .eof(let pipe): return try toChannel(pipe)
        case .close(let pipe): return try closeChannel(pipe)
        }
    }

    private func pump(_ pipe: Pipe) throws -> Bool {
        if pipe.state == .closing { return try closeChannel(pipe) }
        guard pipe.state == .open else { return false }
        var progressed = try toChannel(pipe)
        if pending == nil { progressed = try toSocket(pipe) || progressed }
        if pending == nil, pipe.finishedBothWays { pipe.state = .closing; progressed = try closeChannel(pipe) || true }
        return progressed
    }

    /// Inner session -> jump host.
    private func toChannel(_ pipe: Pipe) throws -> Bool {
        var progressed = false
        if pipe.outbound.isEmpty && !pipe.socketEOF {
            let n = recv(pipe.link.hubSocket, pipe.outbound.storage, Pipe.bufferSize, Int32(MSG_DONTWAIT))
            if n > 0 { pipe.outbound.count = n; pipe.outbound.offset = 0; progressed = true }
            else if n == 0 || (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) { pipe.socketEOF = true; progressed = true }
        }
        while !pipe.outbound.isEmpty {
            let n = libssh2_channel_write_ex(pipe.channel, 0, pipe.outbound.start.assumingMemoryBound(to: CChar.self), pipe.outbound.remaining)
            if n > 0 { pipe.outbound.consume(n); progressed = true; continue }
            if Int32(n) == LibSSH2.eagain {
                if sending { pending = .write(pipe) }
                return progressed
            }
            try checkTransport(Int32(n))
            pipe.state = .closing  // the channel is gone: nothing more can reach the host
            return true
        }
        if pipe.socketEOF && !pipe.eofSent {
            guard try finished(libssh2_channel_send_eof(pipe.channel), else: .eof(pipe)) else { return progressed }
            pipe.eofSent = true
            progressed = true
        }
        return progressed
    }

    /// Jump host -> inner session.
    private func toSocket(_ pipe: Pipe) throws -> Bool {
        var progressed = false
        if pipe.inbound.isEmpty && !pipe.channelEOF {
            let n = libssh2_channel_read_ex(pipe.channel, 0, pipe.inbound.storage.assumingMemoryBound(to: CChar.self), Pipe.bufferSize)
            if n > 0 {
                pipe.inbound.count = n; pipe.inbound.offset = 0; progressed = true
            } else if n == 0 || Int32(n) == LibSSH2.eagain {
                if Int32(n) == LibSSH2.eagain && sending { pending = .read(pipe); return false }
                if libssh2_channel_eof(pipe.channel) == 1 { pipe.channelEOF = true; progressed = true }
            } else {
                try checkTransport(Int32(n))
                pipe.channelEOF = true
                progressed = true
            }
        }
        while !pipe.inbound.isEmpty {
            let n = send(pipe.link.hubSocket, pipe.inbound.start, pipe.inbound.remaining, Int32(MSG_NOSIGNAL) | Int32(MSG_DONTWAIT))
            if n > 0 { pipe.inbound.consume(n); progressed = true; continue }
            if n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) { return progressed }
            // The inner session closed its end: what is left has nobody to read it.
            pipe.inbound.clear()
            pipe.socketEOF = true
            pipe.channelEOF = true
            return true
        }
        if pipe.channelEOF && !pipe.socketShutDown {
            shutdown(pipe.link.hubSocket, Int32(SHUT_WR))
            pipe.socketShutDown = true
            progressed = true
        }
        return progressed
    }

    private func closeChannel(_ pipe: Pipe) throws -> Bool {
        if !pipe.closeSent {
            guard try finished(libssh2_channel_close(pipe.channel), else: .close(pipe)) else { return false }
            pipe.closeSent = true
        }
        guard try finished(libssh2_channel_free(pipe.channel), else: .close(pipe)) else { return false }
        pipe.state = .closed
        return true
    }

    // MARK: Session state

    /// Whether a call that can send is done: false on EAGAIN (remembered in `pending` as `call` when libssh2 holds
    /// half a packet), and throws when the transport failed.
    private func finished(_ rc: Int32, else call: Pending) throws -> Bool {
        if rc == LibSSH2.eagain {
            if sending { pending = call }
            return false
        }
        try checkTransport(rc)
        return true
    }

    /// libssh2 is waiting to send the rest of a packet.
    private var sending: Bool { libssh2_session_block_directions(raw) & LIBSSH2_SESSION_BLOCK_OUTBOUND != 0 }

    /// Throws when `rc` says the jump host's transport itself is gone (every link then fails with the reason).
    private func checkTransport(_ rc: Int32) throws {
        if rc == 0 || rc == LibSSH2.eagain { return }
        if LibSSH2.isConnectionError(rc) || rc == LIBSSH2_ERROR_BAD_USE {
            throw SSHError(.connect, host: hub.jumpName, "the connection to jump host \(hub.jumpName) failed: \(LibSSH2.describe(rc, raw))")
        }
    }

    /// Sleeps in poll() until the jump host's socket, a link's socket or the wake eventfd has something to do.
    private func waitForWork() {
        // A read on one channel can pull packets for others off the socket: those wait in libssh2, not the socket.
        // Likewise an EOF, or a window adjustment that lets a blocked write go on.
        if pipes.contains(where: { pipe in
            guard pipe.state == .open, pending == nil else { return false }
            if pipe.inbound.isEmpty && libssh2_poll_channel_read(pipe.channel, 0) != 0 { return true }
            if !pipe.channelEOF && libssh2_channel_eof(pipe.channel) == 1 { return true }
            return !pipe.outbound.isEmpty && libssh2_channel_window_write_ex(pipe.channel, nil) > 0
        }) {
            return
        }
        var fds: [pollfd] = [pollfd(fd: hub.wakeDescriptor, events: Int16(POLLIN), revents: 0)]
        var events = Int16(POLLIN)
        if sending { events |= Int16(POLLOUT) }
        fds.append(pollfd(fd: session.socket, events: events, revents: 0))
        for pipe in pipes where pipe.state == .open {
            var wanted: Int16 = 0
            if pipe.outbound.isEmpty && !pipe.socketEOF { wanted |= Int16(POLLIN) }
            if !pipe.inbound.isEmpty { wanted |= Int16(POLLOUT) }
            if wanted != 0 { fds.append(pollfd(fd: pipe.link.hubSocket, events: wanted, revents: 0)) }
        }
        // Bounded: a missed wake-up costs at most this long, never a hang.
        _ = poll(&fds, nfds_t(fds.count), 250)
    }
}

/// One channel and its socketpair end, with a bounded buffer each way.
private final class Pipe {
    static let bufferSize = 64 * 1024

    enum State { case open, closing, closed }

    final class Buffer {
        let storage = UnsafeMutableRawPointer.allocate(byteCount: Pipe.bufferSize, alignment: 16)
        var offset = 0
        var count = 0
        var isEmpty: Bool { offset >= count }
        var start: UnsafeMutableRawPointer { storage + offset }
        var remaining: Int { count - offset }
        func consume(_ n: Int) { offset += n; if offset >= count { clear() } }
        func clear() { offset = 0; count = 0 }
        deinit { storage.deallocate() }
    }

    let link: JumpLink
    let channel: OpaquePointer
    var state = State.open
    /// Inner session -> channel; its storage stays put, so a write repeated after EAGAIN passes the same pointer.
    let outbound = Buffer()
    /// Channel -> inner session.
    let inbound = Buffer()
    var socketEOF = false
    var eofSent = false
    var channelEOF = false
    var socketShutDown = false
    var closeSent = false

    init(link: JumpLink, channel: OpaquePointer) {
        self.link = link
        self.channel = channel
    }

    /// The inner session is done (its end closed and our EOF sent), or the host closed and we passed that on.
    var finishedBothWays: Bool { (socketEOF && eofSent && outbound.isEmpty) || (channelEOF && socketShutDown && socketEOF) }
}
