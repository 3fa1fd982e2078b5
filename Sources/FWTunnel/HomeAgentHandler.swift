import Glibc
import Logging
import NIOCore
import NIOSSL

/// home's end of a connection from a work agent: challenge, authenticate, then serve as the agent's command
/// connection or as one of its data connections (idle in the pool until a client is linked to it).
final class HomeAgentHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    private enum State {
        case awaitingHello
        case command(Session)
        case idleData(Session)
        case relaying
    }

    private let server: HomeServer
    private let nonce = Handshake.makeNonce()
    private var state = State.awaitingHello
    private var reader = FrameReader()
    private let heartbeat = HeartbeatTimer()
    private var deadline: Scheduled<Void>?
    /// False once this connection is being closed (a protocol error, a refusal): nothing more it sends is read. The
    /// state stays, so that the close, which may come later (TLS says goodbye first), undoes what the state holds.
    private var reading = true

    private var context: ChannelHandlerContext?

    init(server: HomeServer) { self.server = server }

    func handlerAdded(context: ChannelHandlerContext) { self.context = context }
    func handlerRemoved(context: ChannelHandlerContext) { self.context = nil }

    private var logger: Logger { server.logger }

    func channelActive(context: ChannelHandlerContext) {
        context.writeFrame(.challenge(version: Frame.version, nonce: nonce))
        let bound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
        deadline = context.eventLoop.scheduleTask(in: .interval(server.config.handshakeTimeout)) {
            let (handler, context) = bound.value
            guard case .awaitingHello = handler.state else { return }
            handler.server.counters.handshakeFailures.add(1)
            handler.logger.warning("agent connection closed: no hello in time", metadata: ["peer": "\(describe(context.channel.remoteAddress))"])
            context.close(promise: nil)
        }
        context.fireChannelActive()
    }

    func channelInactive(context: ChannelHandlerContext) {
        deadline?.cancel()
        heartbeat.stop()
        switch state {
        case .command(let session): server.unregisterAgent(session: session)
        case .idleData(let session): server.idleDataClosed(session: session, channel: context.channel)
        case .awaitingHello, .relaying: break
        }
        context.fireChannelInactive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        if case .relaying = state {
            context.fireChannelRead(data)
            return
        }
        guard reading else { return }
        reader.append(unwrapInboundIn(data))
        do {
            while reading, case .some(let frame) = try reader.next() {
                handle(frame, context: context)
                if case .relaying = state { break }
            }
        } catch {
            protocolError("\(error)", context: context)
        }
    }

    /// work never half-closes a connection before it relays on it: the end of its input on a command, idle or
    /// unauthenticated connection means that end of work is gone (its process ended, or it closed the connection),
    /// and waiting for the heartbeats to say so would go on linking clients to it meanwhile.
    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if case ChannelEvent.inputClosed = event {
            if case .relaying = state {} else {
                reading = false
                context.close(promise: nil)
                return
            }
        }
        context.fireUserInboundEventTriggered(event)
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        if case .awaitingHello = state, error is NIOSSLError {
            server.counters.handshakeFailures.add(1)
            logger.warning("agent connection closed: TLS failed", metadata: ["peer": "\(describe(context.channel.remoteAddress))", "error": "\(error)"])
        } else {
            logger.debug("agent connection error", metadata: ["peer": "\(describe(context.channel.remoteAddress))", "error": "\(error)"])
        }
        context.close(promise: nil)
    }

    private func handle(_ frame: Frame, context: ChannelHandlerContext) {
        switch (state, frame) {
        case (.awaitingHello, .hello(let hello)):
            authenticate(hello, context: context)
        case (.command, .heartbeat):
            heartbeat.received()
        default:
            protocolError("unexpected frame", context: context)
        }
    }

    private func protocolError(_ reason: String, context: ChannelHandlerContext) {
        server.counters.protocolErrors.add(1)
        logger.warning("agent connection closed: protocol error", metadata: ["peer": "\(describe(context.channel.remoteAddress))", "reason": "\(reason)"])
        reading = false
        deadline?.cancel()  // decided: its handshake deadline must not count it again
        context.close(promise: nil)
    }

    private func refuse(_ reason: String, context: ChannelHandlerContext) {
        context.writeAndFlush(NIOAny(encoded(.refuse(reason: reason), context))).whenComplete { [context = NIOLoopBound(context, eventLoop: context.eventLoop)] _ in
            context.value.close(promise: nil)
        }
        reading = false
        deadline?.cancel()
    }

    private func encoded(_ frame: Frame, _ context: ChannelHandlerContext) -> ByteBuffer {
        var buffer = context.channel.allocator.buffer(capacity: 64)
        frame.encode(into: &buffer)
        return buffer
    }

    private func authenticate(_ hello: Hello, context: ChannelHandlerContext) {
        let peer = describe(context.channel.remoteAddress)
        guard hello.version == Frame.version else {
            refuse("protocol version \(hello.version) is not supported; home speaks \(Frame.version)", context: context)
            return
        }
        guard TunnelName.isValid(hello.agent), hello.services.allSatisfy(TunnelName.isValid) else {
            protocolError("invalid agent or service name", context: context)
            return
        }
        guard Handshake.verify(hello, nonce: nonce, secret: server.secret) else {
            server.counters.failedAuth.add(1)
            logger.warning("agent authentication failed", metadata: ["peer": "\(peer)", "agent": "\(hello.agent)"])
            refuse("authentication failed", context: context)
            return
        }
        deadline?.cancel()
        switch hello.role {
        case .command:
            let unknown = hello.services.filter { name in !server.config.services.contains { $0.name == name } }
            guard unknown.isEmpty, !hello.services.isEmpty else {
                logger.error("agent offers services home does not have", metadata: ["agent": "\(hello.agent)", "services": "\(unknown.joined(separator: ","))"])
                refuse("services not configured on home: \(unknown.joined(separator: ","))", context: context)
                return
            }
            let (session, pending) = server.registerAgent(name: hello.agent, services: hello.services, command: context.channel)
            state = .command(session)
            context.writeFrame(.welcome(session: session.bytes), flush: pending == 0)
            if pending > 0 { context.writeFrame(.openData(count: UInt16(min(pending, 1024)))) }
            startHeartbeat(context: context, expectsHeartbeats: true)
        case .data:
            let session = Session(bytes: hello.session)
            guard server.isLive(session: session, name: hello.agent) else {
                server.counters.staleDataConnections.add(1)
                logger.warning("data connection refused: no live session", metadata: ["peer": "\(peer)", "agent": "\(hello.agent)"])
                refuse("no live session", context: context)
                return
            }
            if server.splices {
                handOver(session: session, agent: hello.agent, context: context)
                return
            }
            switch server.dataArrived(session: session, name: hello.agent, connection: .channel(context.channel)) {
            case .refused:
                logger.warning("data connection refused: no live session", metadata: ["peer": "\(peer)", "agent": "\(hello.agent)"])
                refuse("no live session", context: context)
            case .idle:
                state = .idleData(session)
                context.writeFrame(.welcome(session: [UInt8](repeating: 0, count: Frame.sessionSize)))
                startHeartbeat(context: context, expectsHeartbeats: false)
            case .link(let client):
                state = .idleData(session)
                context.writeFrame(.welcome(session: [UInt8](repeating: 0, count: Frame.sessionSize)), flush: false)
                if !server.link(client, to: .channel(context.channel), agent: hello.agent) { server.dispatch(client) }
            }
        }
    }

    /// With the kernel relay, an authenticated data connection leaves NIO here, for good: its Welcome is written
    /// on the socket directly, the channel is closed without reading more, and the socket joins the pool (watched
    /// and heartbeated by the client gate) or goes to a waiting client. Nothing is ever written on it through NIO
    /// after this, so nothing NIO still held could follow the Connect frame.
    private func handOver(session: Session, agent: String, context: ChannelHandlerContext) {
        // work sends nothing after its Hello until it relays; NIO must hold nothing unwritten (the Challenge).
        guard reader.takeRemaining() == nil,
              (try? context.channel.syncOptions?.getOption(ChannelOptions.bufferedWritableBytes)) == 0,
              let fd = SpliceEngine.takeDescriptor(context.channel) else {
            protocolError("data connection not ready to leave NIO", context: context)
            return
        }
        state = .relaying  // nothing more is read or written here
        var frame = ByteBuffer()
        Frame.welcome(session: [UInt8](repeating: 0, count: Frame.sessionSize)).encode(into: &frame)
        let welcome = Array(frame.readableBytesView)
        let sent = welcome.withUnsafeBytes { send(fd, $0.baseAddress!, $0.count, Int32(MSG_NOSIGNAL | MSG_DONTWAIT)) }
        context.close(promise: nil)
        guard sent == welcome.count else {
            close(fd)
            return
        }
        let connection = server.makeDataSocket(fd)
        switch server.dataArrived(session: session, name: agent, connection: connection) {
        case .refused:
            server.closeIdle([connection])
        case .idle:
            break
        case .link(let client):
            if !server.link(client, to: connection, agent: agent) { server.dispatch(client) }
        }
    }

    /// On the command connection both sides send heartbeats; on an idle data connection only home does (work
    /// sends nothing there until it relays, so a heartbeat can never land in a client's byte stream).
    private func startHeartbeat(context: ChannelHandlerContext, expectsHeartbeats: Bool) {
        heartbeat.start(context: context, interval: .interval(server.config.heartbeatInterval),
                        timeout: expectsHeartbeats ? .interval(server.config.heartbeatTimeout) : nil, sends: true) { [logger] in
            logger.warning("agent missed its heartbeats; closing its command connection")
        }
    }

    /// Called on this channel's event loop when a client is linked: false if this connection is already gone.
    func beginRelay(connect: Connect, partner: Channel, counting: [ByteCount]) -> Bool {
        guard case .idleData = state, reading, let context, context.channel.isActive else { return false }
        heartbeat.stop()
        state = .relaying
        context.writeFrame(.connect(connect))
        do {
            try context.pipeline.syncOperations.addHandler(RelayHandler(partner: partner, bytesRead: counting), position: .after(self))
        } catch {
            return false
        }
        if let rest = reader.takeRemaining() { context.fireChannelRead(NIOAny(rest)) }
        return true
    }
}
