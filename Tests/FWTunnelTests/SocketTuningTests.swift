import CFWSystem
import Glibc
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
        let server = try SocketTuning.listener(ServerBootstrap(group: group))
            .childChannelInitializer { channel in
                accepted.succeed(channel)
                return channel.eventLoop.makeCompletedFuture { try SocketTuning.tune(channel) }
            }
            .bind(host: "127.0.0.1", port: 0).wait()
        defer { try? server.close().wait() }
        let tuned = ClientBootstrap(group: group).channelInitializer { channel in
            channel.eventLoop.makeCompletedFuture { try SocketTuning.tune(channel) }
        }
        let client = try SocketTuning.connect(tuned,
                                              to: HostPort(host: "127.0.0.1", port: server.localAddress!.port!)).wait()
        defer { try? client.close().wait() }
        for channel in [client, try accepted.futureResult.wait()] {
            #expect(try channel.getOption(.tcpOption(.tcp_nodelay)).wait() != 0)
            #expect(try channel.getOption(.socketOption(.so_keepalive)).wait() != 0)
            #expect(try channel.getOption(.socketOption(NIOBSDSocket.Option(rawValue: SO_DEBUG))).wait() == 0)
        }
    }

    /// The client gate's sockets: set on its listener only, TCP_NODELAY and SO_KEEPALIVE must reach every socket it
    /// accepts (the kernel copies them to each).
    @Test func socketsTheGateAcceptsHaveNoDelayAndKeepalive() throws {
        var address = try SocketAddress(ipAddress: "127.0.0.1", port: 0)
        let listener = address.withSockAddr { fw_tcp_listen($0, CUnsignedInt($1), 4) }
        try #require(listener >= 0)
        defer { close(listener) }
        var local = sockaddr_in()
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &local) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(listener, $0, &length) } }
        address = try SocketAddress(ipAddress: "127.0.0.1", port: Int(UInt16(bigEndian: local.sin_port)))
        let client = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(client) }
        let connected = address.withSockAddr { connect(client, $0, socklen_t($1)) }
        try #require(connected == 0)
        var peer = sockaddr_storage()
        var peerLength = CUnsignedInt(MemoryLayout<sockaddr_storage>.size)
        var accepted: CInt = -1
        for _ in 0..<200 where accepted < 0 {  // the handshake is done by now; bounded all the same
            accepted = withUnsafeMutablePointer(to: &peer) { fw_tcp_accept(listener, $0, &peerLength) }
            if accepted < 0 { usleep(5_000) }
        }
        try #require(accepted >= 0)
        defer { close(accepted) }
        func option(_ level: CInt, _ name: CInt) -> CInt {
            var value: CInt = 0
            var size = socklen_t(MemoryLayout<CInt>.size)
            return getsockopt(accepted, level, name, &value, &size) == 0 ? value : -1
        }
        #expect(option(CInt(IPPROTO_TCP), TCP_NODELAY) != 0)
        #expect(option(SOL_SOCKET, SO_KEEPALIVE) != 0)
        #expect(fcntl(accepted, F_GETFL) & O_NONBLOCK != 0)
    }
}
