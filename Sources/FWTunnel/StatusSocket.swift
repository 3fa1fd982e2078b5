import FoundationEssentials
import Logging
import NIOCore
import NIOPosix
#if canImport(Glibc)
import Glibc
#endif

/// A Unix socket that answers every connection with one JSON document (the process's counters, see CONFIG.md) and
/// closes it: what `fwctl tunnel status` reads. Mode 0600: root's, like the config.
enum StatusSocket {
    static func bind(path: String, group: EventLoopGroup, snapshot: @escaping @Sendable () -> Data) async throws -> Channel {
        let channel = try await ServerBootstrap(group: group)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(StatusAnswerHandler(snapshot: snapshot))
                }
            }
            .bind(unixDomainSocketPath: path, cleanupExistingSocketFile: true)
            .get()
        chmod(path, 0o600)
        return channel
    }
}

private final class StatusAnswerHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    let snapshot: @Sendable () -> Data

    init(snapshot: @escaping @Sendable () -> Data) { self.snapshot = snapshot }

    func channelActive(context: ChannelHandlerContext) {
        var buffer = context.channel.allocator.buffer(capacity: 1024)
        buffer.writeBytes(snapshot())
        buffer.writeString("\n")
        context.writeAndFlush(NIOAny(buffer)).whenComplete { [context = NIOLoopBound(context, eventLoop: context.eventLoop)] _ in
            context.value.close(promise: nil)
        }
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {}
}

enum StatusJSON {
    static func encode<T: Encodable>(_ value: T) -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        return (try? encoder.encode(value)) ?? Data("{}".utf8)
    }
}
