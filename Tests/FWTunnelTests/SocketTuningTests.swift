import Glibc
import Synchronization
@testable import FWTunnel
import NIOCore
import NIOPosix
import Testing

@Suite struct SocketTuningTests {
    /// Read back from the kernel: TCP_NODELAY (a TCP-level option; asked for at the socket level it would have set
    /// SO_DEBUG, which has the same number) and SO_KEEPALIVE on both ends of a tuned connection.
    @Test func tunedConnectionsHaveNoDelayAndKeepalive() throws {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        defer { try? group.syncShutdownGracefully() }
        let accepted = group.next().makePromise(of: Channel.self)
        let server = try SocketTuning.apply(to: ServerBootstrap(group: group), autoRead: true)
            .childChannelInitializer { channel in
                accepted.succeed(channel)
                return channel.eventLoop.makeSucceededVoidFuture()
            }
            .bind(host: "127.0.0.1", port: 0).wait()
        defer { try? server.close().wait() }
        let client = try SocketTuning.connect(SocketTuning.apply(to: ClientBootstrap(group: group)),
                                              to: HostPort(host: "127.0.0.1", port: server.localAddress!.port!)).wait()
        defer { try? client.close().wait() }
        for channel in [client, try accepted.futureResult.wait()] {
            #expect(try channel.getOption(.tcpOption(.tcp_nodelay)).wait() != 0)
            #expect(try channel.getOption(.socketOption(.so_keepalive)).wait() != 0)
            #expect(try channel.getOption(.socketOption(NIOBSDSocket.Option(rawValue: SO_DEBUG))).wait() == 0)
        }
    }
}

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
}
