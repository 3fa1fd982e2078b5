import NIOCore
import NIOPosix

/// Socket options on every hop (client-home, home-work, work-service): no Nagle delay for interactive traffic,
/// keepalive so a peer that vanished without a FIN is noticed, remote half-close delivered as an event, and
/// reads sized for throughput.
enum SocketTuning {
    // Small first reads keep a thousand mostly idle connections cheap; bulk transfers grow to 256 KiB reads.
    static let recvAllocator = AdaptiveRecvByteBufferAllocator(minimum: 1024, initial: 4096, maximum: 256 * 1024)

    static func apply(to bootstrap: ServerBootstrap, autoRead: Bool) -> ServerBootstrap {
        bootstrap
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .serverChannelOption(.backlog, value: 1024)
            .childChannelOption(.tcpOption(.tcp_nodelay), value: 1)
            .childChannelOption(.socketOption(.so_keepalive), value: 1)
            .childChannelOption(.allowRemoteHalfClosure, value: true)
            .childChannelOption(.autoRead, value: autoRead)
            .childChannelOption(.recvAllocator, value: recvAllocator)
            .childChannelOption(.writeBufferWaterMark, value: .init(low: 128 * 1024, high: 512 * 1024))
    }

    /// Connects to `target`: an IP literal directly (no resolver thread, no Happy Eyeballs timers on the path
    /// of every client), a name through NIO's resolver.
    static func connect(_ bootstrap: ClientBootstrap, to target: HostPort) -> EventLoopFuture<Channel> {
        if let address = try? SocketAddress(ipAddress: target.host, port: target.port) {
            return bootstrap.connect(to: address)
        }
        return bootstrap.connect(host: target.host, port: target.port)
    }

    static func apply(to bootstrap: ClientBootstrap) -> ClientBootstrap {
        bootstrap
            .channelOption(.tcpOption(.tcp_nodelay), value: 1)
            .channelOption(.socketOption(.so_keepalive), value: 1)
            .channelOption(.allowRemoteHalfClosure, value: true)
            .channelOption(.recvAllocator, value: recvAllocator)
            .channelOption(.writeBufferWaterMark, value: .init(low: 128 * 1024, high: 512 * 1024))
    }
}
