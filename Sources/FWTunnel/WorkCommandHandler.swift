import Logging
import NIOCore
import NIOSSL

/// work's end of the command connection: answers home's challenge, then exchanges heartbeats and opens data
/// connections when home asks.
final class WorkCommandHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    private enum State { case awaitingChallenge, awaitingWelcome, ready, closed }

    private let agent: WorkAgent
    private var state = State.awaitingChallenge
    private var reader = FrameReader()
    private let heartbeat = HeartbeatTimer()
    private var deadline: Scheduled<Void>?

    init(agent: WorkAgent) { self.agent = agent }

    func channelActive(context: ChannelHandlerContext) {
        let bound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
        deadline = context.eventLoop.scheduleTask(in: .interval(agent.config.connectTimeout)) {
            let (handler, context) = bound.value
            guard handler.state != .ready else { return }
            handler.agent.logger.warning("home did not complete the handshake in time")
            context.close(promise: nil)
        }
        context.fireChannelActive()
    }

    func channelInactive(context: ChannelHandlerContext) {
        deadline?.cancel()
        heartbeat.stop()
        context.fireChannelInactive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard state != .closed else { return }
        reader.append(unwrapInboundIn(data))
        do {
            while state != .closed, let frame = try reader.next() { handle(frame, context: context) }
        } catch {
            fail("protocol error from home: \(error)", context: context)
        }
    }

    /// home never half-closes the command connection: the end of its input means home is gone, and work reconnects
    /// now rather than at its heartbeat timeout.
    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if case ChannelEvent.inputClosed = event {
            fail("home closed the command connection", context: context)
            return
        }
        context.fireUserInboundEventTriggered(event)
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        if let tlsError = error as? NIOSSLError, case .handshakeFailed = tlsError {
            fail("TLS handshake with home failed (is tls.fingerprint home's certificate?): \(error)", context: context)
        } else {
            fail("command connection error: \(error)", context: context)
        }
    }

    private func fail(_ message: String, context: ChannelHandlerContext) {
        agent.logger.warning("\(message)")
        state = .closed
        context.close(promise: nil)
    }

    private func handle(_ frame: Frame, context: ChannelHandlerContext) {
        switch (state, frame) {
        case (.awaitingChallenge, .challenge(let version, let nonce)):
            guard version == Frame.version else {
                fail("home speaks protocol version \(version); this fwtunnel-work speaks \(Frame.version)", context: context)
                return
            }
            let hello = Hello(role: .command, agent: agent.config.name, session: [UInt8](repeating: 0, count: Frame.sessionSize),
                              services: agent.config.services.map(\.name))
            context.writeFrame(.hello(Handshake.sign(hello, nonce: nonce, secret: agent.secret)))
            state = .awaitingWelcome
        case (.awaitingWelcome, .welcome(let session)):
            deadline?.cancel()
            state = .ready
            agent.commandReady(session: session, channel: context.channel)
            heartbeat.start(context: context, interval: .interval(agent.config.heartbeatInterval),
                            timeout: .interval(agent.config.heartbeatTimeout), sends: true) { [agent] in
                agent.logger.warning("home missed its heartbeats; reconnecting")
            }
        case (_, .refuse(let reason)):
            agent.commandRefused(reason)
            state = .closed
            context.close(promise: nil)
        case (.ready, .heartbeat):
            heartbeat.received()
        case (.ready, .openData(let count)):
            heartbeat.received()
            agent.openData(count: Int(count))
        default:
            fail("unexpected frame from home", context: context)
        }
    }
}
