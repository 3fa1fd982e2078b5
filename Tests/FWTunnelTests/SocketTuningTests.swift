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
}
