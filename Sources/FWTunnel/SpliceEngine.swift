import CFWSystem
import FWBase
import Glibc
import Logging
import NIOCore
import NIOPosix
import Synchronization

/// Relays linked connections in the kernel: bytes go socket -> pipe -> socket with splice(2) and never enter
/// this process, where a user-space relay copies each byte twice (read, then write) on each of home and work.
/// Used on the clear (`"tls": false`) path once a client and a data connection are linked; TLS has to see the
/// bytes, so it stays on NIO's `RelayHandler`. Semantics are the relay's: half-close passes (end of input on one
/// side shuts the other's output once the pipe is drained), an error on either side closes both, backpressure
/// is the pipe: a side is read only when its pipe is empty.
///
/// A few threads of our own (epoll, level-triggered) serve every relay; each relay belongs to one of them.
final class SpliceEngine: Sendable {
    /// What happens to each byte of one direction, and who hears when the relay ends.
    struct Relay: Sendable {
        var first: CInt
        var second: CInt
        /// Written to `second` before anything spliced from `first` (a PROXY header, bytes NIO already read); not
        /// counted here (the caller counts what it read).
        var toSecond: [UInt8]
        var toFirst: [UInt8]
        var countFirstToSecond: [ByteCount]
        var countSecondToFirst: [ByteCount]
        /// Set when `second` is still connecting (a non-blocking connect under way): nothing moves until it is
        /// connected, and a connect that fails or outlasts its timeout ends the relay.
        var connecting: PendingConnect? = nil
        /// Called once when both sockets are closed: on the engine's thread, or on the caller's when the relay
        /// ends (or cannot start) within `start`.
        var finished: @Sendable () -> Void
    }

    /// A connect the engine finishes: its own threads wait for it, so the thread that started it need not. Its
    /// time limit is the kernel's (`fw_tcp_connect` sets TCP_USER_TIMEOUT, which bounds the SYN's retries; it is
    /// cleared once connected), so a connect that gets no answer ends as "Connection timed out".
    struct PendingConnect: Sendable {
        /// Called once when the connect has succeeded, before any byte moves: on the engine's thread, or on the
        /// caller's when the connect is already done within `start`.
        var established: @Sendable () -> Void
        /// Called once, with the reason, when the connect fails, times out or cannot be waited for (before
        /// `finished`; then `established` is never called), on the same threads as `established`. Not called when
        /// the relay ends otherwise while connecting (its first socket ends, or the engine stops).
        var failed: @Sendable (String) -> Void
    }

    private let loops: [SpliceLoop]
    private let next = Atomic<Int>(0)

    /// Starts `threads` relay threads; throws when the kernel refuses epoll, eventfd or a thread.
    /// `runningThreads: false` (tests only) leaves the loops without their threads: a relay then moves only what
    /// `start` itself moves, and `shutdown` closes what was submitted.
    init(threads: Int, runningThreads: Bool = true, logger: Logger? = nil) throws {
        var loops: [SpliceLoop] = []
        for _ in 0..<max(1, threads) { loops.append(try SpliceLoop(running: runningThreads, logger: logger)) }
        self.loops = loops
    }

    /// Takes ownership of both descriptors (closed when the relay ends, or at once if it cannot start). What
    /// can move at once moves before this returns, on the caller's thread (see `SpliceLoop.submit`).
    func start(_ relay: Relay) {
        let index = next.wrappingAdd(1, ordering: .relaxed).oldValue % loops.count
        loops[index].submit(relay)
    }

    /// Relays in progress (for the status socket and tests).
    var active: Int { loops.reduce(0) { $0 + $1.active.load(ordering: .relaxed) } }

    /// How many times the relay threads have woken so far (tests: a relay that waits must not spin).
    var wakeups: Int { loops.reduce(0) { $0 + $1.wakeups.load(ordering: .relaxed) } }

    /// Closes every relay and stops the threads.
    func shutdown() {
        for loop in loops { loop.stop() }
    }
}

/// The bytes of one direction between leaving one socket and entering the other.
private struct SpliceDirection: Sendable {
    let from: CInt
    let to: CInt
    let pipeRead: CInt
    let pipeWrite: CInt
    var prefix: [UInt8]
    var prefixSent = 0
    var inPipe = 0
    var endOfInput = false
    var shut = false
    /// Blocked: waiting for `from` to be readable / `to` to be writable.
    var waitingIn = false
    var waitingOut = false
    /// `from` hung up after this relay had shut its output: what it still holds is read to its end, with no
    /// event from it (it is out of epoll, which would report the hang-up at every wait); this direction moves
    /// when `to` has room.
    var fromHungUp = false
    let counters: [ByteCount]

    enum Step { case progressed, blocked, done, failed }

    /// Over: its end of input passed on as a shutdown of `to`.
    var isDone: Bool { endOfInput && shut }

    /// The pipe's capacity asked for, and the most one splice takes in.
    static let chunk = 1 << 20
    /// What the kernel gave (less than `chunk` when it caps pipe sizes): a read of less than this found `from` empty.
    let capacity: Int

    /// Moves what it can (bounded, so one busy relay cannot starve the others on its thread). With `untilShortRead`
    /// a read that took less than the pipe holds, once passed on, ends the step as if `from` had nothing more: epoll is
    /// level-triggered, so anything that came meanwhile (or the end of input) reports again, and the read that
    /// would only have said EAGAIN is saved.
    mutating func pump(untilShortRead: Bool = true) -> Step {
        waitingIn = false
        waitingOut = false
        var drained = false
        for _ in 0..<64 {
            if prefixSent < prefix.count {
                let n = prefix.withUnsafeBytes { write(to, $0.baseAddress! + prefixSent, prefix.count - prefixSent) }
                if n > 0 {
                    prefixSent += n
                    if prefixSent == prefix.count { prefix = [] ; prefixSent = 0 }
                    continue
                }
                if n < 0 && (errno == EAGAIN || errno == EINTR) { waitingOut = true; return .blocked }
                return .failed
            }
            if inPipe > 0 {
                let n = fw_splice(pipeRead, to, inPipe)
                if n > 0 {
                    inPipe -= n
                    for counter in counters { counter.add(n) }
                    continue
                }
                if n < 0 && (errno == EAGAIN || errno == EINTR) { waitingOut = true; return .blocked }
                return .failed
            }
            if drained {
                waitingIn = true
                return .progressed
            }
            if endOfInput {
                if !shut {
                    shut = true
                    if Glibc.shutdown(to, Int32(SHUT_WR)) != 0 && errno != ENOTCONN { return .failed }
                }
                return .done
            }
            let n = fw_splice(from, pipeWrite, Self.chunk)
            if n > 0 {
                inPipe = n
                drained = untilShortRead && !fromHungUp && n < capacity
                continue
            }
            if n == 0 {
                endOfInput = true
                continue
            }
            if errno == EINTR { waitingIn = !fromHungUp; waitingOut = fromHungUp; return .blocked }
            // A socket that hung up has its end of input: it cannot have nothing yet.
            if errno == EAGAIN && !fromHungUp { waitingIn = true; return .blocked }
            return .failed
        }
        // Bound reached with work left: wait for whatever the next step needs, which is most likely ready now (a
        // `from` that hung up reports nothing: then room on `to` brings this direction back).
        if prefixSent < prefix.count || inPipe > 0 || fromHungUp { waitingOut = true } else { waitingIn = true }
        return .progressed
    }
}

/// One relay: two sockets, two pipes, two directions.
private struct SpliceSession: Sendable {
    var forward: SpliceDirection
    var backward: SpliceDirection
    var interest: (CUnsignedInt, CUnsignedInt) = (0, 0)
    /// Sockets taken out of epoll after they hung up (`SpliceDirection.fromHungUp`).
    var hungUp: (first: Bool, second: Bool) = (false, false)
    /// `forward.to` (the relay's second socket) is still connecting.
    var connecting: SpliceEngine.PendingConnect?
    let finished: @Sendable () -> Void

    /// The session for `relay` with its two pipes; nil (and nothing left open but the relay's sockets) when the
    /// kernel gives no pipe.
    init?(_ relay: SpliceEngine.Relay) {
        var forwardPipe: [CInt] = [-1, -1], backwardPipe: [CInt] = [-1, -1]
        let forwardCapacity = fw_pipe_nonblocking(&forwardPipe, CInt(SpliceDirection.chunk))
        guard forwardCapacity > 0 else { return nil }
        let backwardCapacity = fw_pipe_nonblocking(&backwardPipe, CInt(SpliceDirection.chunk))
        guard backwardCapacity > 0 else {
            for fd in forwardPipe { close(fd) }
            return nil
        }
        forward = SpliceDirection(from: relay.first, to: relay.second, pipeRead: forwardPipe[0], pipeWrite: forwardPipe[1],
                                  prefix: relay.toSecond, counters: relay.countFirstToSecond, capacity: Int(forwardCapacity))
        backward = SpliceDirection(from: relay.second, to: relay.first, pipeRead: backwardPipe[0], pipeWrite: backwardPipe[1],
                                   prefix: relay.toFirst, counters: relay.countSecondToFirst, capacity: Int(backwardCapacity))
        connecting = relay.connecting
        finished = relay.finished
    }

    /// The connect under way has ended (its socket showed writable or in error): nil when it succeeded, else why
    /// it failed.
    mutating func connectEnded() -> String? {
        let error = fw_tcp_connected(forward.to)
        guard error == 0 else { return String(cString: strerror(error)) }
        connecting = nil
        return nil
    }

    /// Pumps the directions an event concerns (the other is where it was: its socket had nothing for it): whether
    /// the relay is over (both done, or either failed), and whether anything moved.
    mutating func pump(forward pumpsForward: Bool, backward pumpsBackward: Bool, untilShortRead: Bool) -> (over: Bool, progressed: Bool) {
        if connecting != nil { return (false, false) }
        let forward = pumpsForward ? forward.pump(untilShortRead: untilShortRead) : (forward.isDone ? .done : .blocked)
        let backward = pumpsBackward ? backward.pump(untilShortRead: untilShortRead) : (backward.isDone ? .done : .blocked)
        return (forward == .failed || backward == .failed || (forward == .done && backward == .done),
                forward == .progressed || backward == .progressed)
    }

    /// A hang-up on one socket after this relay shut its output there (the direction writing to it is done): the
    /// normal end of a half-closed connection, not a failure. What the socket still holds goes on to the other
    /// side, as fast as that side takes it; true when the socket must leave epoll now (its first hang-up).
    mutating func hangUpAfterShutdown(secondSocket: Bool) -> Bool {
        if secondSocket {
            guard forward.isDone, !hungUp.second else { return false }
            hungUp.second = true
            backward.fromHungUp = true
        } else {
            guard backward.isDone, !hungUp.first else { return false }
            hungUp.first = true
            forward.fromHungUp = true
        }
        return true
    }

    /// The directions an event on one socket concerns: input on a socket feeds the direction that reads it, room
    /// to write feeds the one that writes to it; a hang-up concerns both.
    static func concerned(secondSocket: Bool, events: CUnsignedInt) -> (forward: Bool, backward: Bool) {
        if events & CUnsignedInt(FW_EPOLL_HUP | FW_EPOLL_ERR) != 0 { return (true, true) }
        let readable = events & CUnsignedInt(FW_EPOLL_IN | FW_EPOLL_RDHUP) != 0
        let writable = events & CUnsignedInt(FW_EPOLL_OUT) != 0
        // The first socket is read by the forward direction and written by the backward one; the second, the reverse.
        return secondSocket ? (writable, readable) : (readable, writable)
    }

    var descriptors: [CInt] { [forward.from, forward.to, forward.pipeRead, forward.pipeWrite, backward.pipeRead, backward.pipeWrite] }

    /// What each socket must wait for: readable when its outgoing direction waits for input, writable when its
    /// incoming direction waits to write. A direction that is not blocked but not done either (it hit its
    /// bound) leaves its socket interested, so level-triggered epoll comes back to it.
    func wanted() -> (CUnsignedInt, CUnsignedInt) {
        if connecting != nil { return (0, CUnsignedInt(FW_EPOLL_OUT)) }
        var first: CUnsignedInt = 0, second: CUnsignedInt = 0
        if forward.waitingIn { first |= CUnsignedInt(FW_EPOLL_IN) }
        if forward.waitingOut { second |= CUnsignedInt(FW_EPOLL_OUT) }
        if backward.waitingIn { second |= CUnsignedInt(FW_EPOLL_IN) }
        if backward.waitingOut { first |= CUnsignedInt(FW_EPOLL_OUT) }
        return (first, second)
    }
}

/// One relay thread: an epoll loop over its sessions.
///
/// A relay is registered with the loop's epoll by the thread that submits it, and the loop takes it from its inbox
/// when the first event for it arrives: the loop's thread does not wake for a new relay at all. (It used to, to
/// register it; that wake-up came just when the service had to answer, on a machine with two cores, and it stood
/// in the queue of a busy core in front of the wake-up that mattered, the one for the service's first bytes.)
private final class SpliceLoop: Sendable {
    private let epoll: CInt
    /// Written only to stop the loop.
    private let wake: CInt
    private let inbox = Mutex<(sessions: [(key: UInt64, session: SpliceSession)], stopping: Bool)>(([], false))
    private let nextKey = Atomic<UInt64>(0)
    let active = Atomic<Int>(0)
    let wakeups = Atomic<Int>(0)
    private let thread = Mutex<WorkerThread?>(nil)
    private let logger: Logger?

    init(running: Bool = true, logger: Logger?) throws {
        self.logger = logger
        epoll = fw_epoll_create()
        wake = fw_eventfd()
        guard epoll >= 0, wake >= 0, fw_epoll_control(epoll, 1, wake, CUnsignedInt(FW_EPOLL_IN), UInt64.max) == 0 else {
            throw SpliceError("epoll: \(String(cString: strerror(errno)))")
        }
        guard running else { return }
        let worker = try WorkerThread(stackSize: 1 << 20) { [self] in run() }
        thread.withLock { $0 = worker }
    }

    /// The session is made and pumped once here, on the caller's thread, then registered: what can move at once
    /// (a banner the service sent while its connection was handed over, a PROXY header, bytes NIO had read)
    /// moves before this returns, and the rest waits for epoll.
    func submit(_ relay: SpliceEngine.Relay) {
        guard var session = SpliceSession(relay) else {
            let reason = "no pipe: \(String(cString: strerror(errno)))"
            logger?.error("cannot relay a connection", metadata: ["reason": "\(reason)"])
            close(relay.first)
            close(relay.second)
            relay.connecting?.failed(reason)
            relay.finished()
            return
        }
        // A connect to a nearby service is often done by now: then the loop need not wake to see it done.
        if let pending = session.connecting, fw_writable(relay.second) != 0 {
            if let failure = session.connectEnded() {
                for fd in session.descriptors { close(fd) }
                pending.failed(failure)
                session.finished()
                return
            }
            pending.established()
        }
        if session.pump(forward: true, backward: true, untilShortRead: true).over {
            for fd in session.descriptors { close(fd) }
            session.finished()
            return
        }
        session.interest = session.wanted()
        // Both sockets go into epoll and the session into the inbox under the inbox's lock: an event that comes
        // before the session is published names a key the loop does not have, and the loop, looking in its inbox,
        // waits on this lock instead of spinning on the event. Adding the sockets after publishing would let the
        // loop end the session, and close its sockets, before the second socket was added (by a number the
        // kernel may have given to another file by then). The lock also keeps `epoll` from being closed meanwhile.
        let key = nextKey.wrappingAdd(1, ordering: .relaxed).oldValue
        let failure = inbox.withLock { inbox -> String? in
            guard !inbox.stopping else { return "the relay is stopping" }
            guard fw_epoll_control(epoll, 1, session.forward.from, session.interest.0, key << 1) == 0 else {
                return "epoll: \(String(cString: strerror(errno)))"
            }
            guard fw_epoll_control(epoll, 1, session.forward.to, session.interest.1, key << 1 | 1) == 0 else {
                let reason = "epoll: \(String(cString: strerror(errno)))"
                _ = fw_epoll_control(epoll, 2, session.forward.from, 0, 0)
                return reason
            }
            active.add(1, ordering: .relaxed)
            inbox.sessions.append((key, session))
            return nil
        }
        if let failure { abandon(session, reason: failure) }
    }

    /// A session that could not be registered (the kernel refused epoll: out of memory): closed, with the reason.
    private func abandon(_ session: SpliceSession, reason: String) {
        logger?.error("cannot relay a connection", metadata: ["reason": "\(reason)"])
        for fd in session.descriptors { close(fd) }
        session.connecting?.failed(reason)
        session.finished()
    }

    func stop() {
        guard let worker = thread.withLock({ $0 }) else {
            // No thread (tests): nothing else will close what was submitted.
            let waiting = inbox.withLock { inbox in
                defer { inbox.sessions = [] }
                inbox.stopping = true
                return inbox.sessions
            }
            for (_, session) in waiting {
                for fd in session.descriptors { close(fd) }
                active.subtract(1, ordering: .relaxed)
                session.finished()
            }
            close(epoll)
            close(wake)
            return
        }
        // The wake-up is written under the lock: the loop closes its eventfd only after it has seen `stopping`
        // under the same lock, so the write cannot reach a closed (or reused) descriptor.
        inbox.withLock { inbox in
            inbox.stopping = true
            var one: UInt64 = 1
            _ = write(wake, &one, 8)
        }
        worker.join()
    }

    /// The loop: sessions live only on this thread, keyed by a number whose low bit says which socket.
    private func run() {
        var sessions: [UInt64: SpliceSession] = [:]
        /// Sessions whose second socket is still connecting.
        var connecting: Set<UInt64> = []
        var tokens = [UInt64](repeating: 0, count: 256)
        var events = [CUnsignedInt](repeating: 0, count: 256)

        func end(_ key: UInt64) {
            guard let session = sessions.removeValue(forKey: key) else { return }
            connecting.remove(key)
            for fd in session.descriptors { close(fd) }  // closing removes the sockets from epoll
            active.subtract(1, ordering: .relaxed)
            session.finished()
        }

        func update(_ key: UInt64) {
            guard var session = sessions[key] else { return }
            let wanted = session.wanted()
            if wanted.0 != session.interest.0 && !session.hungUp.first {
                _ = fw_epoll_control(epoll, 3, session.forward.from, wanted.0, key << 1)
            }
            if wanted.1 != session.interest.1 && !session.hungUp.second {
                _ = fw_epoll_control(epoll, 3, session.forward.to, wanted.1, key << 1 | 1)
            }
            session.interest = wanted
            sessions[key] = session
        }

        /// Pumps the directions `events` on the given socket concern (both without events); ends the session when
        /// both are done or either failed.
        func pump(_ key: UInt64, secondSocket: Bool = false, events: CUnsignedInt? = nil) {
            guard var session = sessions[key] else { return }
            let hungUp = (events ?? 0) & CUnsignedInt(FW_EPOLL_HUP) != 0
            let afterShutdown = hungUp && session.hangUpAfterShutdown(secondSocket: secondSocket)
            if afterShutdown {
                // Level-triggered epoll would report this hang-up at every wait until the other side took it all.
                _ = fw_epoll_control(epoll, 2, secondSocket ? session.forward.to : session.forward.from, 0, 0)
            }
            // A hang-up without this relay having shut the socket: a reset, or closed both ways while this side still
            // had bytes for it.
            let abrupt = hungUp && !afterShutdown
            let concerned = events.map { SpliceSession.concerned(secondSocket: secondSocket, events: $0) } ?? (forward: true, backward: true)
            // Such a socket gives what is left and its end of input in this step: read it to the end.
            let (over, progressed) = session.pump(forward: concerned.forward, backward: concerned.backward, untilShortRead: !abrupt)
            sessions[key] = session
            if over { end(key); return }
            // It can take no more bytes and will give none: nothing left to wait for.
            if abrupt && !progressed { end(key); return }
            update(key)
        }

        /// Takes what was submitted since the last look; false when the loop is to stop.
        func takeInbox() -> Bool {
            let (arrived, stopping) = inbox.withLock { inbox in
                defer { inbox.sessions = [] }
                return (inbox.sessions, inbox.stopping)
            }
            for (key, session) in arrived {
                sessions[key] = session
                if session.connecting != nil { connecting.insert(key) }
            }
            return !stopping
        }

        /// A connect ended (its socket showed writable or in error): the relay starts, or ends with the reason.
        func connectEnded(_ key: UInt64) {
            guard var session = sessions[key], let pending = session.connecting else { return }
            if let failure = session.connectEnded() {
                pending.failed(failure)
                end(key)
                return
            }
            connecting.remove(key)
            sessions[key] = session
            pending.established()
            pump(key)
        }

        while true {
            let count = fw_epoll_wait(epoll, &tokens, &events, 256, -1)
            wakeups.add(1, ordering: .relaxed)
            if count < 0 {
                if errno == EINTR { continue }
                logger?.critical("relay thread stopped", metadata: ["reason": "epoll_wait: \(String(cString: strerror(errno)))"])
                break
            }
            for i in 0..<Int(count) {
                if tokens[i] == UInt64.max {
                    var value: UInt64 = 0
                    _ = read(wake, &value, 8)
                    if takeInbox() { continue }
                    for key in Array(sessions.keys) { end(key) }
                    inbox.withLock { _ in close(epoll) }  // `submit` adds to epoll only under this lock, seeing `stopping`
                    close(wake)
                    return
                }
                let key = tokens[i] >> 1
                if sessions[key] == nil, !takeInbox() || sessions[key] == nil { continue }  // ended already (or stopping)
                if connecting.contains(key) {
                    // Only the connecting socket is watched (for writable), but either can report an error.
                    if tokens[i] & 1 == 1 { connectEnded(key) } else { end(key) }
                    continue
                }
                if events[i] & CUnsignedInt(FW_EPOLL_ERR) != 0 {
                    end(key)
                    continue
                }
                pump(key, secondSocket: tokens[i] & 1 == 1, events: events[i])
            }
        }
    }
}

struct SpliceError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

extension SpliceEngine {
    /// A descriptor of its own for `channel`'s socket (close-on-exec), for the engine; the caller then closes the
    /// NIO channel in the same event-loop step, which leaves the socket open through this copy. Call on the
    /// channel's event loop. `known` is the channel's descriptor as read earlier (`ChannelDescriptor.of`): an open
    /// channel keeps its socket. Only clear channels are ever taken: both sides make an engine only when the
    /// tunnel has no TLS, so no TLS channel's ciphertext (or its plaintext, skipping encryption) reaches it.
    static func takeDescriptor(_ channel: Channel, known: CInt? = nil) -> CInt? {
        channel.eventLoop.preconditionInEventLoop()
        guard channel.isActive, let descriptor = known ?? ChannelDescriptor.of(channel) else { return nil }
        let copy = fcntl(descriptor, F_DUPFD_CLOEXEC, 0)
        return copy >= 0 ? copy : nil
    }

    /// An engine when this process can splice NIO's sockets: the descriptor found through NIO for a scratch
    /// listener on loopback must be the socket the kernel knows (same local port), else nil and a log line
    /// saying the relay stays in user space.
    static func make(group: EventLoopGroup, logger: Logger) async -> SpliceEngine? {
        let listener = try? await ServerBootstrap(group: group).bind(host: "127.0.0.1", port: 0).get()
        let port = listener?.localAddress?.port
        let matches = try? await listener?.eventLoop.submit { () -> Bool in
            guard let listener, let descriptor = ChannelDescriptor.of(listener), let port else { return false }
            var address = sockaddr_in()
            var length = socklen_t(MemoryLayout<sockaddr_in>.size)
            let named = withUnsafeMutablePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(descriptor, $0, &length) }
            }
            return named == 0 && Int32(address.sin_family) == AF_INET && Int(UInt16(bigEndian: address.sin_port)) == port
        }.get()
        try? await listener?.close()
        guard matches == true else {
            logger.warning("splice unavailable (cannot find the socket under a NIO channel); relaying in user space")
            return nil
        }
        _ = fw_raise_open_file_limit()
        do {
            return try SpliceEngine(threads: min(4, System.coreCount), logger: logger)
        } catch {
            logger.warning("splice unavailable; relaying in user space", metadata: ["error": "\(error)"])
            return nil
        }
    }
}
