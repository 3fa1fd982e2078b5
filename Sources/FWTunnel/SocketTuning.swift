import NIOCore
import NIOPosix

/// Socket options on every hop (client-home, home-work, work-service): no Nagle delay for interactive traffic,
/// keepalive so a peer that vanished without a FIN is noticed, remote half-close delivered as an event, and
/// reads sized for throughput.
enum SocketTuning {
    static let recvAllocator = AdaptiveRecvByteBufferAllocator(minimum: 4096, initial: 65536, maximum: 256 * 1024)

    static func apply(to bootstrap: ServerBootstrap, autoRead: Bool) -> ServerBootstrap {
        bootstrap
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .serverChannelOption(.backlog, value: 1024)
            .childChannelOption(.socketOption(.tcp_nodelay), value: 1)
            .childChannelOption(.socketOption(.so_keepalive), value: 1)
            .childChannelOption(.allowRemoteHalfClosure, value: true)
            .childChannelOption(.autoRead, value: autoRead)
            .childChannelOption(.recvAllocator, value: recvAllocator)
            .childChannelOption(.writeBufferWaterMark, value: .init(low: 128 * 1024, high: 512 * 1024))
    }

    static func apply(to bootstrap: ClientBootstrap) -> ClientBootstrap {
        bootstrap
            .channelOption(.socketOption(.tcp_nodelay), value: 1)
            .channelOption(.socketOption(.so_keepalive), value: 1)
            .channelOption(.allowRemoteHalfClosure, value: true)
            .channelOption(.recvAllocator, value: recvAllocator)
            .channelOption(.writeBufferWaterMark, value: .init(low: 128 * 1024, high: 512 * 1024))
    }
}
