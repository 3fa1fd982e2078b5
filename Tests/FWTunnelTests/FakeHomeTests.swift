@testable import FWTunnel
import NIOCore
import NIOPosix
import Synchronization
import Testing

private final class Count: Sendable {
    let value = Atomic<Int>(0)
}

/// What the fake home answers a data connection's Hello.
private enum DataAnswer: Sendable {
    /// Welcome, then (on the first data connection only) a Connect for a service work does not serve.
    case connectToAnUnknownService
    /// Refuse (as home does when the session is not live).
    case refuse
}

/// A home that authenticates work's connections like the real one (without checking the MAC) and then says
/// what a test wants on the data connections.
private final class FakeHomeHandler: ChannelInboundHandler, @unchecked Sendable {
    // @unchecked: NIO calls a handler only on its channel's event loop.
    typealias InboundIn = ByteBuffer
    private var buffer: ByteBuffer?
    private let dataConnections: Count
    private let answer: DataAnswer

    init(dataConnections: Count, answer: DataAnswer) {
        self.dataConnections = dataConnections
        self.answer = answer
    }

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
                let count = dataConnections.value.add(1, ordering: .relaxed).newValue
                if answer == .refuse {
                    send(.refuse(reason: "no live session"), context)
                    continue
                }
                send(.welcome(session: [UInt8](repeating: 0, count: Frame.sessionSize)), context)
                if count == 1 {
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
        try withFakeHome(answering: .connectToAnUnknownService) { tunnel, dataConnections in
            #expect(eventually(2) { dataConnections.value.load(ordering: .relaxed) >= 3 },
                    "data connections seen by home: \(dataConnections.value.load(ordering: .relaxed))")
        }
    }

    /// A data connection home refuses is no longer counted as opening: the pool dials its replacements (after a
    /// pause) instead of waiting for ever on connections that are gone.
    @Test func refusedDataConnectionsAreReplaced() throws {
        try withFakeHome(answering: .refuse) { tunnel, dataConnections in
            #expect(eventually(3) { dataConnections.value.load(ordering: .relaxed) >= 6 },
                    "data connections seen by home: \(dataConnections.value.load(ordering: .relaxed))")
            #expect(number(tunnel.workStatus(), "pool.opening").map { $0 <= 2 } == true, "\(tunnel.workStatus() ?? [:])")
        }
    }

    /// fwtunnel-work (pool of 2) connected to a fake home on loopback.
    private func withFakeHome(answering answer: DataAnswer, _ body: (TunnelFixture, Count) throws -> Void) throws {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        defer { try? group.syncShutdownGracefully() }
        let dataConnections = Count()
        let home = try ServerBootstrap(group: group)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(FakeHomeHandler(dataConnections: dataConnections, answer: answer))
                }
            }
            .bind(host: "127.0.0.1", port: 0).wait()
        defer { try? home.close().wait() }
        let tunnel = try TunnelFixture(services: [.init(name: "echo", target: 9)])
        defer { tunnel.stop() }
        try tunnel.startWork(pool: ["min": 2, "max": 2], waitConnected: false, homePort: home.localAddress!.port!)
        try body(tunnel, dataConnections)
    }
}
