import NIOCore
import NIOPosix

/// Socket options on every hop (client-home, home-work, work-service): no Nagle delay for interactive traffic,
/// keepalive so a peer that vanished without a FIN is noticed, remote half-close delivered as an event, and
/// reads sized for throughput.
///
/// They are set on the channel itself, in its initializer (`tune`), not as bootstrap options: NIO applies
/// bootstrap options one by one through a chain of futures, which cost an accepted client more CPU than the
/// rest of its accept (a third of home's work per new client, profiled), and that CPU sat on the path of the
/// client's first byte.
enum SocketTuning {
    // Small first reads keep a thousand mostly idle connections cheap; bulk transfers grow to 256 KiB reads.
    static let recvAllocator = AdaptiveRecvByteBufferAllocator(minimum: 1024, initial: 4096, maximum: 256 * 1024)
    static let writeBufferWaterMark = ChannelOptions.Types.WriteBufferWaterMark(low: 128 * 1024, high: 512 * 1024)

    /// A listener's own options; its children are tuned by `tune` in their initializer.
    static func listener(_ bootstrap: ServerBootstrap) -> ServerBootstrap {
        bootstrap
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .serverChannelOption(.backlog, value: 1024)
    }

    /// Every hop's options on `channel`, from its initializer (on its event loop, before it is registered, so an
    /// accepted child with `autoRead: false` reads nothing).
    static func tune(_ channel: Channel, autoRead: Bool = true) throws {
        guard let options = channel.syncOptions else { throw ChannelError.operationUnsupported }
        try options.setOption(.tcpOption(.tcp_nodelay), value: 1)
        try options.setOption(.socketOption(.so_keepalive), value: 1)
        try options.setOption(.allowRemoteHalfClosure, value: true)
        if !autoRead { try options.setOption(.autoRead, value: false) }
        try options.setOption(.recvAllocator, value: recvAllocator)
        try options.setOption(.writeBufferWaterMark, value: writeBufferWaterMark)
    }

    /// Connects to `target`: an IP literal directly (no resolver thread, no Happy Eyeballs timers on the path
    /// of every client), a name through NIO's resolver.
    static func connect(_ bootstrap: ClientBootstrap, to target: HostPort) -> EventLoopFuture<Channel> {
        if let address = try? SocketAddress(ipAddress: target.host, port: target.port) {
            return bootstrap.connect(to: address)
        }
        return bootstrap.connect(host: target.host, port: target.port)
    }
}
