import CFWSystem
import FWBase
import Glibc
import NIOCore
import Synchronization

/// home's per-client path when the kernel relays (`"tls": false`, splice on): one thread of its own accepts the
/// clients of every service on plain listening sockets, watches the pool's idle data connections (which leave
/// NIO once authenticated) and keeps the time for their heartbeats and for waiting clients. A new client is
/// admitted, linked to an idle data connection and handed to the splice engine on this thread in one step.
///
/// Why not NIO: a NIO channel for each client (its construction, options, pipeline and registration) was most of
/// home's CPU per client, and all of it sat between the client's connect and the Connect frame to work, so on the
/// path of the client's first byte. The policy (allowlist, limits, which agent) is HomeServer's, as for NIO's
/// clients; this thread only moves sockets.
final class ClientGate: Sendable {
    /// A service's listening socket and what the admission needs to know about it.
    struct Listener: Sendable {
        let socket: CInt
        let service: String
        let allowlistFile: String
        let endpoint: Endpoint
    }

    /// What the gate asks of home.
    struct Handlers: Sendable {
        /// A client was accepted (its socket is the handler's now): when it was admitted, its id and the end of its
        /// wait for a data connection, which the gate keeps the time for.
        var accepted: @Sendable (_ socket: CInt, _ peer: SocketAddress?, _ listener: Listener) -> (client: Int, deadline: ContinuousClock.Instant)?
        /// An idle data connection showed input or an end (work sends nothing on an idle one): it is dead.
        var idleEvent: @Sendable (_ id: UInt64) -> Void
        /// A waiting client reset its connection (or hung up): it is gone.
        var clientEvent: @Sendable (_ client: Int) -> Void
        /// Time for the idle data connections' heartbeats.
        var heartbeat: @Sendable () -> Void
        /// A client admitted at least `clientWait` ago: closed if it still waits.
        var waitExpired: @Sendable (_ client: Int) -> Void
        /// Accepting failed for want of descriptors or memory; the listener rests for 100 ms.
        var exhausted: @Sendable (_ listener: Listener, _ reason: String) -> Void
        /// The gate's thread ended on an error: no more clients are accepted, waiting ones would never expire and
        /// idle data connections would get no heartbeats, so the handler ends the process (its supervisor starts
        /// it again).
        var stopped: @Sendable (_ reason: String) -> Void
    }

    private let epoll: CInt
    private let wake: CInt
    private let listeners: [Listener]
    private let thread = Mutex<WorkerThread?>(nil)
    private let stopping = Atomic<Bool>(false)
    /// Whether `epoll` is still this gate's: `watch` and `forget` from other threads check it under this lock, so
    /// they never act on the number after `stop` closed it (and the kernel may have given it to another file).
    private let epollOpen = Mutex<Bool>(true)
    private static let idleTag: UInt64 = 1 << 62
    private static let clientTag: UInt64 = 1 << 61

    /// Binds every listener (throws naming the address that fails, nothing left open) and starts the thread.
    init(services: [(service: HomeConfig.Service, allowlistFile: String)], heartbeatInterval: Double, handlers: Handlers) throws {
        var listeners: [Listener] = []
        func closeAll() { for listener in listeners { close(listener.socket) } }
        for (service, allowlistFile) in services {
            let address: SocketAddress
            do {
                address = try SocketAddress.makeAddressResolvingHost(service.listen.host, port: service.listen.port)
            } catch {
                closeAll()
                throw GateError("cannot resolve \(service.listen) for service \(service.name): \(error)")
            }
            let socket = address.withSockAddr { fw_tcp_listen($0, CUnsignedInt($1), 1024) }
            guard socket >= 0 else {
                let reason = String(cString: strerror(errno))
                closeAll()
                throw GateError("cannot listen on \(service.listen) for service \(service.name): \(reason)")
            }
            listeners.append(Listener(socket: socket, service: service.name, allowlistFile: allowlistFile,
                                      endpoint: Endpoint(address) ?? Endpoint(address: [0, 0, 0, 0], port: UInt16(service.listen.port))))
        }
        epoll = fw_epoll_create()
        wake = fw_eventfd()
        self.listeners = listeners
        guard epoll >= 0, wake >= 0, fw_epoll_control(epoll, 1, wake, CUnsignedInt(FW_EPOLL_IN), UInt64.max) == 0,
              listeners.indices.allSatisfy({ fw_epoll_control(epoll, 1, listeners[$0].socket, CUnsignedInt(FW_EPOLL_IN), UInt64($0)) == 0 })
        else {
            let reason = String(cString: strerror(errno))
            closeAll()
            if epoll >= 0 { close(epoll) }
            if wake >= 0 { close(wake) }
            throw GateError("epoll: \(reason)")
        }
        do {
            let worker = try WorkerThread(stackSize: 1 << 20) { [self] in
                run(handlers: handlers, heartbeatInterval: .nanoseconds(Int64(heartbeatInterval * 1e9)))
            }
            thread.withLock { $0 = worker }
        } catch {
            closeAll()
            close(epoll)
            close(wake)
            throw GateError("cannot start the client gate's thread: \(error)")
        }
    }

    /// Watches an idle data connection of the pool; `id` names it in `Handlers.idleEvent`.
    func watch(_ socket: CInt, id: UInt64) -> Bool {
        epollOpen.withLock { open in
            open && fw_epoll_control(epoll, 1, socket, CUnsignedInt(FW_EPOLL_IN) | CUnsignedInt(FW_EPOLL_RDHUP), Self.idleTag | id) == 0
        }
    }

    /// Watches a waiting client for a reset or a hang-up (not for input or a half-close, which it may send while it
    /// waits); `id` names it in `Handlers.clientEvent`. Its link stops the watch with `forget`. One-shot: a client
    /// that resets while it is between lists (being linked or moved) reports once, not in a loop until then; a
    /// client dispatched again is watched again.
    func watchClient(_ socket: CInt, id: Int) {
        epollOpen.withLock { open in
            guard open else { return }
            let events = CUnsignedInt(FW_EPOLL_ONESHOT), token = Self.clientTag | UInt64(id)
            if fw_epoll_control(epoll, 1, socket, events, token) != 0 && errno == EEXIST {
                _ = fw_epoll_control(epoll, 3, socket, events, token)
            }
        }
    }

    /// Stops watching a socket: a data connection leaving the pool, or a client being linked, before the socket
    /// goes to the engine, so that nothing here reacts to what then arrives on it (a socket that is closed stops
    /// being watched by itself).
    func forget(_ socket: CInt) {
        epollOpen.withLock { open in
            if open { _ = fw_epoll_control(epoll, 2, socket, 0, 0) }
        }
    }

    /// Closes the listeners and ends the thread (idle data connections are home's to close).
    func stop() {
        guard !stopping.exchange(true, ordering: .relaxed) else { return }
        var one: UInt64 = 1
        _ = write(wake, &one, 8)
        thread.withLock { $0 }?.join()
        for listener in listeners { close(listener.socket) }
        epollOpen.withLock { open in
            open = false
            close(epoll)
        }
        close(wake)
    }

    private func run(handlers: Handlers, heartbeatInterval: Duration) {
        var tokens = [UInt64](repeating: 0, count: 256)
        var events = [CUnsignedInt](repeating: 0, count: 256)
        // Admitted clients in the order they came, so the first is always the next to expire (from `head` on;
        // the array is compacted as it is consumed).
        var deadlines: [(client: Int, at: ContinuousClock.Instant)] = []
        var head = 0
        var nextHeartbeat = ContinuousClock.now + heartbeatInterval
        var storage = sockaddr_storage()

        // Listeners not watched for a moment because the process ran out of descriptors (or memory): accepting
        // again at once would only fail again, in a loop that takes a core. Said at most every 10 s per listener.
        var paused: [(index: Int, until: ContinuousClock.Instant)] = []
        var lastSaid: [Int: ContinuousClock.Instant] = [:]

        func timeout() -> CInt {
            var next = head < deadlines.count ? min(deadlines[head].at, nextHeartbeat) : nextHeartbeat
            for pause in paused { next = min(next, pause.until) }
            let left = ContinuousClock.now.duration(to: next)
            if left <= .zero { return 0 }
            let (seconds, attoseconds) = left.components
            return CInt(min(Int64(Int32.max), seconds * 1000 + attoseconds / 1_000_000_000_000_000 + 1))
        }

        func accept(from index: Int) {
            let listener = listeners[index]
            // Bounded, so a flood on one port cannot keep this thread from the rest; level-triggered epoll comes back.
            for _ in 0..<64 {
                var length = CUnsignedInt(MemoryLayout<sockaddr_storage>.size)
                let socket = withUnsafeMutablePointer(to: &storage) { fw_tcp_accept(listener.socket, $0, &length) }
                if socket < 0 {
                    let error = errno
                    if error == EAGAIN || error == EWOULDBLOCK { return }
                    if error == EMFILE || error == ENFILE || error == ENOBUFS || error == ENOMEM {
                        // Clients wait in the kernel's queue meanwhile (or are refused by it when it is full).
                        if lastSaid[index].map({ ContinuousClock.now - $0 >= .seconds(10) }) ?? true {
                            handlers.exhausted(listener, String(cString: strerror(error)))
                            lastSaid[index] = .now
                        }
                        _ = fw_epoll_control(epoll, 3, listener.socket, 0, UInt64(index))
                        paused.append((index, .now + .milliseconds(100)))
                        return
                    }
                    continue  // this client is gone already (reset while it waited in the queue): the next one
                }
                if let admitted = handlers.accepted(socket, Self.address(storage), listener) { deadlines.append((admitted.client, admitted.deadline)) }
            }
        }

        while !stopping.load(ordering: .relaxed) {
            let count = fw_epoll_wait(epoll, &tokens, &events, 256, timeout())
            if count < 0 && errno != EINTR {
                handlers.stopped("epoll_wait: \(String(cString: strerror(errno)))")
                break
            }
            for i in 0..<max(0, Int(count)) {
                let token = tokens[i]
                if token == UInt64.max { continue }  // the wake-up: the loop's condition decides
                if token & Self.idleTag != 0 {
                    handlers.idleEvent(token & ~Self.idleTag)
                } else if token & Self.clientTag != 0 {
                    handlers.clientEvent(Int(token & ~Self.clientTag))
                } else if Int(token) < listeners.count {
                    accept(from: Int(token))
                }
            }
            let now = ContinuousClock.now
            paused.removeAll { pause in
                guard pause.until <= now else { return false }
                _ = fw_epoll_control(epoll, 3, listeners[pause.index].socket, CUnsignedInt(FW_EPOLL_IN), UInt64(pause.index))
                return true
            }
            while head < deadlines.count, deadlines[head].at <= now {
                handlers.waitExpired(deadlines[head].client)
                head += 1
            }
            if head > 1024, head * 2 > deadlines.count {
                deadlines.removeFirst(head)
                head = 0
            }
            if nextHeartbeat <= now {
                handlers.heartbeat()
                nextHeartbeat = now + heartbeatInterval
            }
        }
    }

    /// The peer of an accepted socket, as NIO spells addresses (for the admission and the logs).
    private static func address(_ storage: sockaddr_storage) -> SocketAddress? {
        var storage = storage
        switch Int32(storage.ss_family) {
        case AF_INET:
            return withUnsafePointer(to: &storage) { $0.withMemoryRebound(to: sockaddr_in.self, capacity: 1) { SocketAddress($0.pointee, host: "") } }
        case AF_INET6:
            return withUnsafePointer(to: &storage) { $0.withMemoryRebound(to: sockaddr_in6.self, capacity: 1) { SocketAddress($0.pointee, host: "") } }
        default:
            return nil
        }
    }
}

struct GateError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}
