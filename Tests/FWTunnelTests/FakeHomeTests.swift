@testable import FWTunnel
import NIOCore
import NIOPosix
import Synchronization
import Testing

private final class Count: Sendable {
    let value = Atomic<Int>(0)
}

/// A home that authenticates work's connections like the real one (without checking the MAC) and then says
/// what a test wants: here, a Connect for a service work does not serve, on its first pooled data connection.
private final class FakeHomeHandler: ChannelInboundHandler, @unchecked Sendable {
    // @unchecked: NIO calls a handler only on its channel's event loop.
    typealias InboundIn = ByteBuffer
    private var buffer: ByteBuffer?
    private let dataConnections: Count

    init(dataConnections: Count) { self.dataConnections = dataConnections }

    private func send(_ frame: Frame, _ context: ChannelHandlerContext) {
        var out = context.channel.allocator.buffer(capacity: 64)
        frame.encode(into: &out)
        context.writeAndFlush(NIOAny(out), promise: nil)
    }

    func channelActive(context: ChannelHandlerContext) {
        send(.challenge(version: Frame.version, nonce: [UInt8](repeating: 7, count: Frame.nonceSize)), context)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        var bytes = unwrapInboundIn(data)
        if buffer == nil { buffer = bytes } else { buffer!.writeBuffer(&bytes) }
        while let frame = try? Frame.decode(from: &buffer!) {
            guard case .hello(let hello) = frame else { continue }
            switch hello.role {
            case .command:
                send(.welcome(session: [UInt8](repeating: 1, count: Frame.sessionSize)), context)
            case .data:
                send(.welcome(session: [UInt8](repeating: 0, count: Frame.sessionSize)), context)
                if dataConnections.value.add(1, ordering: .relaxed).newValue == 1 {
                    send(.connect(Connect(service: "nope", client: Endpoint(address: [127, 0, 0, 1], port: 1),
                                          listener: Endpoint(address: [127, 0, 0, 1], port: 2))), context)
                }
            }
        }
    }
}

@Suite struct FakeHomeTests {
    /// A data connection that home asks for a service work does not serve is closed, and the pool still gets its
    /// replacement at once: the pool of 2 sees a third connection well before work's heartbeat timeout (5 s here,
    /// and this home sends no heartbeats) would have replaced the silent ones.
    @Test func aConnectForAnUnknownServiceStillRefillsThePool() throws {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        defer { try? group.syncShutdownGracefully() }
        let dataConnections = Count()
        let home = try ServerBootstrap(group: group)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(FakeHomeHandler(dataConnections: dataConnections))
                }
            }
            .bind(host: "127.0.0.1", port: 0).wait()
        defer { try? home.close().wait() }
        let tunnel = try TunnelFixture(services: [.init(name: "echo", target: 9)])
        defer { tunnel.stop() }
        try tunnel.startWork(pool: ["min": 2, "max": 2], waitConnected: false, homePort: home.localAddress!.port!)
        #expect(eventually(2) { dataConnections.value.load(ordering: .relaxed) >= 3 },
                "data connections seen by home: \(dataConnections.value.load(ordering: .relaxed))")
    }
}
