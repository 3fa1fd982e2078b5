@testable import FWTunnel
import NIOCore
import NIOPosix
import Synchronization
import Testing

/// The heartbeat timer of an idle data connection must never write once the connection is linked: a frame
/// written then lands inside the relayed bytes (a client would get it, or the service).
@Suite struct HeartbeatTimerTests {
    /// NIO runs every task due in one tick from one batch, so a task that stops the timer can come just before a
    /// heartbeat already taken out for running. The loop is held busy past both deadlines to put them in one tick.
    @Test func noHeartbeatAfterStopEvenWhenBothWereDueInOneTick() throws {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        defer { try? group.syncShutdownGracefully() }
        let received = AcceptCounter()
        let server = try ServerBootstrap(group: group)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture { try channel.pipeline.syncOperations.addHandler(ByteCounter(received)) }
            }
            .bind(host: "127.0.0.1", port: 0).wait()
        defer { try? server.close().wait() }
        for _ in 0..<20 {
            let starter = TimerStarter()
            let client = try ClientBootstrap(group: group)
                .channelInitializer { channel in
                    channel.eventLoop.makeCompletedFuture { try channel.pipeline.syncOperations.addHandler(starter) }
                }
                .connect(to: server.localAddress!).wait()
            try client.eventLoop.submit {
                let context = try client.pipeline.syncOperations.context(handler: starter)
                let loop = client.eventLoop
                // stop() due at 15 ms, the first heartbeat at 20 ms; the loop is then busy for 60 ms.
                loop.scheduleTask(in: .milliseconds(15)) { starter.timer.stop() }
                starter.timer.start(context: context, interval: .milliseconds(20), timeout: nil, sends: true)
                loop.execute { usleep(60_000) }
            }.wait()
            usleep(150_000)
            try client.close().wait()
        }
        usleep(50_000)
        #expect(received.value.load(ordering: .relaxed) == 0, "heartbeat bytes were written after stop()")
    }
}

private final class TimerStarter: ChannelInboundHandler, @unchecked Sendable {
    // @unchecked: used only on the channel's event loop.
    typealias InboundIn = ByteBuffer
    let timer = HeartbeatTimer()
}

private final class ByteCounter: ChannelInboundHandler, @unchecked Sendable {
    // @unchecked: the count is atomic; the handler is used only on its event loop.
    typealias InboundIn = ByteBuffer
    let count: AcceptCounter
    init(_ count: AcceptCounter) { self.count = count }
    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        count.value.wrappingAdd(unwrapInboundIn(data).readableBytes, ordering: .relaxed)
    }
}
