import CFWSystem
import Glibc
import Synchronization
@testable import FWTunnel
import NIOCore
import NIOPosix
import TestSupport
import Testing

/// The kernel relay on socket pairs, without a tunnel around it.
@Suite struct SpliceEngineTests {
    private func socketPair() -> (CInt, CInt) {
        var fds: [CInt] = [-1, -1]
        #expect(socketpair(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0, &fds) == 0)
        return (fds[0], fds[1])
    }

    /// Bytes already waiting when a relay starts, and the prefix, are across by the time `start` returns: the
    /// first bytes of a new connection do not wait for a relay thread to wake.
    @Test func whatIsWaitingMovesBeforeStartReturns() throws {
        // No relay thread: only `start` can have moved the bytes.
        let engine = try SpliceEngine(threads: 1, runningThreads: false)
        defer { engine.shutdown() }
        let (client, first) = socketPair(), (second, service) = socketPair()
        defer { close(client); close(service) }
        let banner = Array("SSH-2.0-test\r\n".utf8)
        #expect(write(service, banner, banner.count) == banner.count)
        engine.start(.init(first: first, second: second, toSecond: Array("PROXY".utf8), toFirst: [],
                           countFirstToSecond: [], countSecondToFirst: []) {})
        var got = [UInt8](repeating: 0, count: 64)
        let n = recv(client, &got, got.count, Int32(MSG_DONTWAIT))
        #expect(n == banner.count, "the banner was relayed within start")
        let m = recv(service, &got, got.count, Int32(MSG_DONTWAIT))
        #expect(m == 5, "the prefix was written within start")
    }

    /// A relay whose both ends are already over ends within `start`: both sockets closed, `finished` called once.
    /// (Socket pairs here: half-closed from outside, so both directions are done at the first pump.)
    @Test func aRelayThatIsOverAtOnceEndsWithinStart() throws {
        let engine = try SpliceEngine(threads: 1)
        defer { engine.shutdown() }
        let (client, first) = socketPair(), (second, service) = socketPair()
        shutdown(client, Int32(SHUT_WR))
        shutdown(service, Int32(SHUT_WR))
        let calls = Atomic<Int>(0)
        engine.start(.init(first: first, second: second, toSecond: [], toFirst: [],
                           countFirstToSecond: [], countSecondToFirst: []) { calls.add(1, ordering: .relaxed) })
        #expect(calls.load(ordering: .relaxed) == 1)
        #expect(engine.active == 0)
        // Both relay sockets are closed: their peers read the end (the descriptors' numbers may already be reused).
        var byte: UInt8 = 0
        #expect(recv(client, &byte, 1, Int32(MSG_DONTWAIT)) == 0)
        #expect(recv(service, &byte, 1, Int32(MSG_DONTWAIT)) == 0)
        close(client); close(service)
    }

    /// An answer that outlives both ends of its sender's connection arrives whole at a slow reader: the reader
    /// half-closed after its request, the sender wrote its answer and closed, and the reader does not read yet, so
    /// most of the answer waits in the relay. The relay's socket on the sender's side is then shut both ways and
    /// reports a hang-up at every wait (the relay used to end there, with the answer still in its pipe). Both
    /// ways: a client that half-closes and reads a download slowly, and a service that speaks first, half-closes
    /// and reads an upload slowly.
    @Test(arguments: [true, false]) func anAnswerAfterItsSenderClosedArrivesWholeAtASlowReader(readerIsTheClient: Bool) throws {
        let engine = try SpliceEngine(threads: 1)
        defer { engine.shutdown() }
        // The reader on TCP with small buffers (a unix socket takes a whole pipe at once), so most of the answer
        // waits in the relay; the sender's socket holds a lot, so it can write all of it and close.
        let (reader, readerSide) = try tcpPair(buffer: 16 << 10), (senderSide, sender) = socketPair()
        defer { close(reader) }
        var large: CInt = 4 << 20
        if setsockopt(sender, SOL_SOCKET, SO_SNDBUFFORCE, &large, socklen_t(MemoryLayout<CInt>.size)) != 0 {
            setsockopt(sender, SOL_SOCKET, SO_SNDBUF, &large, socklen_t(MemoryLayout<CInt>.size))
        }
        let finished = Atomic<Int>(0)
        engine.start(.init(first: readerIsTheClient ? readerSide : senderSide, second: readerIsTheClient ? senderSide : readerSide,
                           toSecond: [], toFirst: [], countFirstToSecond: [], countSecondToFirst: []) {
            finished.add(1, ordering: .relaxed)
        })
        var timeout = timeval(tv_sec: 5, tv_usec: 0)
        for fd in [reader, sender] {
            setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
            setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        }
        #expect(write(reader, "req", 3) == 3)
        shutdown(reader, Int32(SHUT_WR))
        var request: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 1 << 16)
        while true {
            let n = recv(sender, &chunk, chunk.count, 0)
            if n <= 0 { break }
            request += chunk[0..<n]
        }
        #expect(request == Array("req".utf8), "the request, then its end")
        let answer = (0..<(400 << 10)).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ $0 >> 11) }
        var sent = 0
        while sent < answer.count {
            let n = answer.withUnsafeBytes { write(sender, $0.baseAddress! + sent, answer.count - sent) }
            if n <= 0 { break }
            sent += n
        }
        try #require(sent == answer.count, "the sender wrote its whole answer (\(sent) of \(answer.count) bytes)")
        close(sender)
        let wakeups = engine.wakeups
        usleep(300_000)  // the relay sees the sender's end while the answer still waits for the reader
        #expect(engine.active == 1, "the relay is still on")
        // Waiting for the reader, it sleeps: the hang-up is not reported again at every wait.
        #expect(engine.wakeups - wakeups < 20, "the relay thread woke \(engine.wakeups - wakeups) times while it waited")
        var got: [UInt8] = []
        while got.count <= answer.count {
            let n = recv(reader, &chunk, chunk.count, 0)
            if n <= 0 { break }
            got += chunk[0..<n]
        }
        #expect(got.count == answer.count, "\(got.count) of \(answer.count) bytes arrived")
        let intact = got == answer  // (compared here: a failed #expect would print both arrays)
        #expect(intact, "the answer arrived unchanged")
        #expect(eventually(5) { finished.load(ordering: .relaxed) == 1 })
    }

    /// 127.0.0.1:`port`.
    private func loopback(_ port: UInt16) -> sockaddr_in {
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = port.bigEndian
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        return address
    }

    /// Both ends of a loopback TCP connection, each with send and receive buffers of about `buffer` bytes
    /// (set before the connect, so the window is small from the start).
    private func tcpPair(buffer: CInt) throws -> (CInt, CInt) {
        let server = try listener()
        defer { close(server.fd) }
        var size = buffer
        setsockopt(server.fd, SOL_SOCKET, SO_RCVBUF, &size, socklen_t(MemoryLayout<CInt>.size))
        setsockopt(server.fd, SOL_SOCKET, SO_SNDBUF, &size, socklen_t(MemoryLayout<CInt>.size))
        let client = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        setsockopt(client, SOL_SOCKET, SO_RCVBUF, &size, socklen_t(MemoryLayout<CInt>.size))
        setsockopt(client, SOL_SOCKET, SO_SNDBUF, &size, socklen_t(MemoryLayout<CInt>.size))
        var address = loopback(server.port)
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(client, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard connected == 0 else { close(client); throw TunnelTestError("connect: \(errno)") }
        let accepted = accept(server.fd, nil, nil)
        guard accepted >= 0 else { close(client); throw TunnelTestError("accept: \(errno)") }
        _ = fcntl(accepted, F_SETFL, fcntl(accepted, F_GETFL) | O_NONBLOCK)
        return (client, accepted)
    }

    /// A loopback listener of raw sockets: its port, and the descriptor (backlog as given).
    private func listener(backlog: Int32 = 16) throws -> (fd: CInt, port: UInt16) {
        guard let listener = loopbackListener(backlog: backlog) else { throw TunnelTestError("listener: \(errno)") }
        return (listener.fd, UInt16(listener.port))
    }

    /// `fw_tcp_connect` to 127.0.0.1:`port` (given up by the kernel after `timeout`): the socket and whether the
    /// connect is still under way.
    private func connecting(to port: UInt16, timeout: Duration = .seconds(10)) -> (fd: CInt, inProgress: Bool) {
        var address = loopback(port)
        var inProgress: CInt = 0
        let milliseconds = CUnsignedInt(timeout.components.seconds * 1000 + timeout.components.attoseconds / 1_000_000_000_000_000)
        let fd = withUnsafePointer(to: &address) {
            fw_tcp_connect($0, CUnsignedInt(MemoryLayout<sockaddr_in>.size), milliseconds, &inProgress)
        }
        return (fd, inProgress != 0)
    }

    private final class Outcome: Sendable {
        let failures = Mutex<[String]>([])
        let established = Atomic<Int>(0)
        let finished = Atomic<Int>(0)
    }

    private func relay(_ first: CInt, _ second: CInt, prefix: [UInt8], outcome: Outcome) -> SpliceEngine.Relay {
        .init(first: first, second: second, toSecond: prefix, toFirst: [], countFirstToSecond: [], countSecondToFirst: [],
              connecting: .init(established: { outcome.established.add(1, ordering: .relaxed) }) { reason in
                  outcome.failures.withLock { $0.append(reason) }
              }) {
            outcome.finished.add(1, ordering: .relaxed)
        }
    }

    /// A relay whose second socket is still connecting holds everything (the prefix too) until the connect is
    /// done, then relays both ways. The connect is held up for real: the service's accept queue is full, so the
    /// kernel drops the SYN until the queue has room again and the SYN is sent again (about a second later).
    @Test func aConnectUnderWayIsFinishedByTheEngineBeforeAnythingMoves() throws {
        let engine = try SpliceEngine(threads: 1)
        defer { engine.shutdown() }
        let service = try listener(backlog: 0)
        defer { close(service.fd) }
        let filler = connecting(to: service.port)  // backlog 0 queues one connection: this one fills the queue
        #expect(eventually(2) { fw_socket_error(filler.fd) == 0 && isWritable(filler.fd) })
        let target = connecting(to: service.port)
        try #require(target.fd >= 0 && target.inProgress, "the connect must still be under way")
        #expect(userTimeout(target.fd) == 10_000, "the connect's limit is the kernel's")
        let (client, first) = socketPair()
        defer { close(client) }
        let outcome = Outcome()
        engine.start(relay(first, target.fd, prefix: Array("PROXY ".utf8), outcome: outcome))
        #expect(write(client, "hello", 5) == 5)
        usleep(200_000)
        #expect(outcome.established.load(ordering: .relaxed) == 0 && outcome.finished.load(ordering: .relaxed) == 0)
        #expect(outcome.failures.withLock { $0 }.isEmpty)
        // Room in the queue: the filler leaves, and the next SYN of the relay's connect gets in.
        close(accept(service.fd, nil, nil))
        close(filler.fd)
        var ready = pollfd(fd: service.fd, events: Int16(POLLIN), revents: 0)
        try #require(poll(&ready, 1, 5000) == 1, "the connect got in within 5 s")
        let accepted = accept(service.fd, nil, nil)
        try #require(accepted >= 0)
        defer { close(accepted) }
        var timeout = timeval(tv_sec: 5, tv_usec: 0)
        setsockopt(accepted, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        setsockopt(client, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        var got: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 64)
        while got.count < 11 {
            let n = recv(accepted, &chunk, chunk.count, 0)
            if n <= 0 { break }
            got += chunk[0..<n]
        }
        #expect(String(decoding: got, as: UTF8.self) == "PROXY hello", "the prefix first, then the client's bytes")
        #expect(outcome.established.load(ordering: .relaxed) == 1)
        #expect(userTimeout(target.fd) == 0, "cleared once connected: it must not bound the relay")
        #expect(write(accepted, "banner", 6) == 6)
        let n = recv(client, &chunk, chunk.count, 0)
        #expect(n == 6)
        #expect(outcome.failures.withLock { $0 }.isEmpty)
        #expect(outcome.finished.load(ordering: .relaxed) == 0)
    }

    /// A connect the service refuses ends the relay: the failure is reported once with the kernel's reason,
    /// then `finished`, and the other side sees the end.
    @Test func aRefusedConnectIsReportedAndEndsTheRelay() throws {
        let engine = try SpliceEngine(threads: 1)
        defer { engine.shutdown() }
        // A bound socket that does not listen: connects to its port are refused.
        let bound = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(bound) }
        guard let boundPort = bindLoopback(bound) else { throw TunnelTestError("bind: \(errno)") }
        let port = UInt16(boundPort)
        let target = connecting(to: port)
        if target.fd < 0 {
            #expect(errno == ECONNREFUSED, "refused at once")
            return
        }
        #expect(target.inProgress)
        let (client, first) = socketPair()
        defer { close(client) }
        let outcome = Outcome()
        engine.start(relay(first, target.fd, prefix: [], outcome: outcome))
        #expect(eventually(5) { outcome.finished.load(ordering: .relaxed) == 1 })
        #expect(outcome.failures.withLock { $0 } == [String(cString: strerror(ECONNREFUSED))])
        #expect(outcome.established.load(ordering: .relaxed) == 0)
        var byte: UInt8 = 0
        #expect(recv(client, &byte, 1, 0) == 0, "the other side was closed")
        #expect(engine.active == 0)
    }

    /// A connect that gets no answer (the service's accept queue is full, so the kernel drops its SYN) ends after
    /// its timeout (the kernel's TCP_USER_TIMEOUT, which `fw_tcp_connect` sets), not after minutes of retries.
    @Test func aConnectWithoutAnswerTimesOut() throws {
        let engine = try SpliceEngine(threads: 1)
        defer { engine.shutdown() }
        let service = try listener(backlog: 0)
        defer { close(service.fd) }
        // Backlog 0 queues one connection; it fills the queue, so later SYNs are dropped.
        let filler = connecting(to: service.port)
        defer { close(filler.fd) }
        #expect(eventually(2) { fw_socket_error(filler.fd) == 0 && isWritable(filler.fd) })
        let target = connecting(to: service.port, timeout: .milliseconds(300))
        try #require(target.fd >= 0)
        #expect(target.inProgress)
        let (client, first) = socketPair()
        defer { close(client) }
        let outcome = Outcome()
        let started = ContinuousClock.now
        engine.start(relay(first, target.fd, prefix: [], outcome: outcome))
        #expect(eventually(5) { outcome.finished.load(ordering: .relaxed) == 1 })
        let took = ContinuousClock.now - started
        #expect(outcome.failures.withLock { $0 }.count == 1)
        #expect(outcome.established.load(ordering: .relaxed) == 0)
        #expect(outcome.failures.withLock { $0 } == [String(cString: strerror(ETIMEDOUT))])
        #expect(took >= .milliseconds(300) && took < .seconds(3), "ended after \(took)")
    }

    /// TCP_USER_TIMEOUT of `fd`, in milliseconds (nil when it cannot be read).
    private func userTimeout(_ fd: CInt) -> UInt32? {
        var value: UInt32 = 0
        var length = socklen_t(MemoryLayout<UInt32>.size)
        return getsockopt(fd, Int32(IPPROTO_TCP), TCP_USER_TIMEOUT, &value, &length) == 0 ? value : nil
    }

    private func isWritable(_ fd: CInt) -> Bool {
        var entry = pollfd(fd: fd, events: Int16(POLLOUT), revents: 0)
        return poll(&entry, 1, 0) == 1 && entry.revents & Int16(POLLOUT) != 0
    }

}
