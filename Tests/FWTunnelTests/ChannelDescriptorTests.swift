import Glibc
@testable import FWTunnel
import NIOCore
import NIOPosix
import Testing

/// The descriptor under a NIO channel, found by stored-property offsets once the slow reflection walk has
/// agreed with them for the channel's class.
@Suite struct ChannelDescriptorTests {
    @Test func offsetsAgreeWithReflectionAndWithTheKernel() throws {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        defer { try? group.syncShutdownGracefully() }
        let accepted = group.next().makePromise(of: Channel.self)
        let server = try ServerBootstrap(group: group)
            .childChannelInitializer { channel in
                accepted.succeed(channel)
                return channel.eventLoop.makeSucceededVoidFuture()
            }
            .bind(host: "127.0.0.1", port: 0).wait()
        defer { try? server.close().wait() }
        let client = try ClientBootstrap(group: group).connect(host: "127.0.0.1", port: server.localAddress!.port!).wait()
        defer { try? client.close().wait() }
        for channel in [server, client, try accepted.futureResult.wait()] {
            let (first, second, reflected, byOffsets, port) = try channel.eventLoop.submit {
                let first = ChannelDescriptor.of(channel), second = ChannelDescriptor.of(channel)
                return (first, second, ChannelDescriptor.reflected(channel), ChannelDescriptor.usesOffsets(channel), localPort(of: second ?? -1))
            }.wait()
            #expect(first != nil && first == reflected && second == reflected, "\(type(of: channel))")
            #expect(byOffsets, "\(type(of: channel)) is read by offsets after its first lookup")
            #expect(port == channel.localAddress?.port, "the descriptor is the channel's socket")
        }
    }

    private func localPort(of fd: CInt) -> Int? {
        var address = sockaddr_in()
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let named = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
        }
        return named == 0 ? Int(UInt16(bigEndian: address.sin_port)) : nil
    }
}
