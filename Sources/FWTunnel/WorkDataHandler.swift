import FWBase
import CFWSystem
import Glibc
import Logging
import NIOCore
import NIOPosix
import NIOSSL
import Synchronization

/// work's end of a data connection: authenticates, waits in the pool (home's heartbeats keep it checked), and on
/// home's Connect frame opens the service and relays. Reading stops while the service connection is being made,
/// so bytes that arrive meanwhile stay bounded.
final class WorkDataHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    private enum State { case awaitingChallenge, awaitingWelcome, idle, connecting, relaying, closed }

    private let agent: WorkAgent
    private let session: [UInt8]
    private let generation: Int
    private var state = State.awaitingChallenge
    private var reader = FrameReader()
    private let heartbeat = HeartbeatTimer()
    private var deadline: Scheduled<Void>?
    private var pending: [ByteBuffer] = []
    private var pendingInputClosed = false
    /// The socket under this data connection, read when it entered the pool (nil: read it when needed).
    private var socket: CInt?

    init(agent: WorkAgent, session: [UInt8], generation: Int) {
        self.agent = agent
        self.session = session
        self.generation = generation
    }

    func channelActive(context: ChannelHandlerContext) {
        let bound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
        deadline = context.eventLoop.scheduleTask(in: .interval(agent.config.connectTimeout)) {
            let (handler, context) = bound.value
            guard handler.state == .awaitingChallenge || handler.state == .awaitingWelcome else { return }
            context.close(promise: nil)
        }
        context.fireChannelActive()
    }

    func channelInactive(context: ChannelHandlerContext) {
        deadline?.cancel()
        heartbeat.stop()
        leavePool(context: context)
        context.fireChannelInactive()
    }

    /// This connection will serve no client: the pool hears whether it was still opening or idle (so it is
    /// replaced, and counted neither way any longer), once.
    private func leavePool(context: ChannelHandlerContext) {
        switch state {
        case .awaitingChallenge, .awaitingWelcome: agent.dataGone(generation: generation, wasIdle: false, channel: nil)
        case .idle: agent.dataGone(generation: generation, wasIdle: true, channel: context.channel)
        case .connecting, .relaying, .closed: break
        }
        state = .closed
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch state {
        case .relaying:
            context.fireChannelRead(data)
            return
        case .connecting:
            pending.append(unwrapInboundIn(data))
            return
        case .closed:
            return
        case .awaitingChallenge, .awaitingWelcome, .idle:
            break
        }
        reader.append(unwrapInboundIn(data))
        do {
            while state != .connecting && state != .closed, let frame = try reader.next() { handle(frame, context: context) }
        } catch {
            agent.logger.warning("data connection: protocol error from home", metadata: ["error": "\(error)"])
            context.close(promise: nil)
        }
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if case ChannelEvent.inputClosed = event, state == .connecting {
            pendingInputClosed = true
            return
        }
        if case ChannelEvent.inputClosed = event, state != .relaying {
            context.close(promise: nil)
            return
        }
        context.fireUserInboundEventTriggered(event)
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        if state == .relaying {
            context.fireErrorCaught(error)
            return
        }
        agent.logger.debug("data connection error", metadata: ["error": "\(error)"])
        context.close(promise: nil)
    }

    private func handle(_ frame: Frame, context: ChannelHandlerContext) {
        switch (state, frame) {
        case (.awaitingChallenge, .challenge(let version, let nonce)) where version == Frame.version:
            let hello = Hello(role: .data, agent: agent.config.name, session: session, services: [])
            context.writeFrame(.hello(Handshake.sign(hello, nonce: nonce, secret: agent.secret)))
            state = .awaitingWelcome
        case (.awaitingWelcome, .welcome):
            deadline?.cancel()
            state = .idle
            // Read now, while the connection waits in the pool, not when a client is being linked to it.
            if agent.splicer.withLock({ $0 }) != nil { socket = ChannelDescriptor.of(context.channel) }
            agent.dataReady(generation: generation, channel: context.channel)
            // home sends heartbeats on idle data connections; silence past the timeout means home is gone.
            heartbeat.start(context: context, interval: .interval(agent.config.heartbeatInterval),
                            timeout: .interval(agent.config.heartbeatTimeout), sends: false)
        case (.idle, .heartbeat):
            heartbeat.received()
        case (.idle, .connect(let connect)):
            agent.dataUsed(generation: generation, channel: context.channel)
            open(connect, context: context)
            // After the service connect has started, not before it (it costs a timer's removal).
            heartbeat.stop()
        case (_, .refuse(let reason)):
            agent.logger.warning("home refused a data connection", metadata: ["reason": "\(DisplayEscaping.escaped(reason))"])
            leavePool(context: context)
            context.close(promise: nil)
        default:
            agent.logger.warning("data connection: unexpected frame from home")
            leavePool(context: context)
            context.close(promise: nil)
        }
    }

    /// The longest a used pool connection waits for its replacement to be dialled.
    static let replacementDelay: TimeAmount = .milliseconds(5)

    private func open(_ connect: Connect, context: ChannelHandlerContext) {
        guard let service = agent.services[connect.service], let counters = agent.counters.services[connect.service] else {
            agent.logger.warning("home asked for a service this agent does not serve", metadata: ["service": "\(DisplayEscaping.escaped(connect.service))"])
            agent.replaceUsed()  // this connection was taken out of the pool: it still needs its replacement
            state = .closed
            context.close(promise: nil)
            return
        }
        counters.sessions.add(1)
        if let engine = agent.splicer.withLock({ $0 }), let address = agent.literalTargets[connect.service] {
            splice(toServiceAt: address, connect: connect, service: service, counters: counters, context: context, engine: engine)
            return
        }
        state = .connecting
        if let rest = reader.takeRemaining() { pending.append(rest) }
        context.channel.setOption(ChannelOptions.autoRead, value: false).whenFailure { _ in }
        let data = context.channel
        let bound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
        // The pool's replacement for this connection: once the service connection is made or has failed, so
        // that it is not in the way of the client's first byte, and at the latest after a few milliseconds, so
        // that a slow service does not drain the pool.
        let replaced = NIOLoopBoundBox(false, eventLoop: context.eventLoop)
        let agent = agent
        let replace: @Sendable () -> Void = {
            guard !replaced.value else { return }
            replaced.value = true
            agent.replaceUsed()
        }
        context.eventLoop.scheduleTask(in: Self.replacementDelay) { replace() }
        let bootstrap = ClientBootstrap(group: context.eventLoop)
            .connectTimeout(.interval(agent.config.connectTimeout))
            .channelInitializer { [live = agent.live] channel in
                live.add(channel)
                return channel.eventLoop.makeCompletedFuture { try SocketTuning.tune(channel) }
            }
        SocketTuning.connect(bootstrap, to: service.target)
            .whenComplete { result in
                defer { replace() }
                let (handler, context) = bound.value
                switch result {
                case .failure(let error):
                    Self.connectFailed(service: service, counters: counters, logger: handler.agent.logger, reason: "\(error)")
                    handler.state = .closed
                    context.close(promise: nil)
                case .success(let target):
                    handler.relay(to: target, connect: connect, service: service, counters: counters, context: context, data: data)
                }
            }
    }

    private func relay(to target: Channel, connect: Connect, service: WorkConfig.Service, counters: WorkServiceCounters,
                       context: ChannelHandlerContext, data: Channel) {
        guard state == .connecting, data.isActive else {
            target.close(promise: nil)
            return
        }
        if let engine = agent.splicer.withLock({ $0 }) {
            splice(to: target, connect: connect, service: service, counters: counters, context: context, data: data, engine: engine)
            return
        }
        do {
            try target.pipeline.syncOperations.addHandler(RelayHandler(partner: data, bytesRead: [counters.bytesFromService]))
            try context.pipeline.syncOperations.addHandler(RelayHandler(partner: target, bytesRead: [counters.bytesToService]), position: .after(self))
        } catch {
            target.close(promise: nil)
            context.close(promise: nil)
            return
        }
        counters.active.add(1)
        target.closeFuture.whenComplete { _ in counters.active.add(-1) }
        state = .relaying
        if service.proxyProtocol {
            var header = target.allocator.buffer(capacity: 64)
            header.writeBytes(ProxyProtocolV2.header(source: connect.client, destination: connect.listener))
            target.write(header, promise: nil)
        }
        let buffered = pending
        pending = []
        for chunk in buffered { context.fireChannelRead(NIOAny(chunk)) }
        if !buffered.isEmpty { context.fireChannelReadComplete() } else { target.flush() }
        if pendingInputClosed { context.fireUserInboundEventTriggered(ChannelEvent.inputClosed) }
        data.setOption(ChannelOptions.autoRead, value: true).whenFailure { _ in }
        target.read()
    }

    private static func connectFailed(service: WorkConfig.Service, counters: WorkServiceCounters, logger: Logger, reason: String) {
        counters.connectFailures.add(1)
        logger.warning("cannot connect to the service", metadata: [
            "service": "\(service.name)", "target": "\(service.target)", "error": "\(reason)"])
    }

    /// The kernel relay to a service at an IP address, without a NIO channel for it: the connect to the service
    /// is the first thing done, so the service accepts while the rest is set up, and the engine's thread sees it
    /// through (or reports it failed). The data connection's socket leaves NIO in this same step, so NIO reads
    /// nothing more from it; what it had read past the Connect frame goes to the service after the PROXY header.
    private func splice(toServiceAt address: SocketAddress, connect: Connect, service: WorkConfig.Service,
                        counters: WorkServiceCounters, context: ChannelHandlerContext, engine: SpliceEngine) {
        var inProgress: CInt = 0
        let timeout = CUnsignedInt(min(agent.config.connectTimeout * 1000, Double(UInt32.max)).rounded(.up))
        let serviceSocket = address.withSockAddr { fw_tcp_connect($0, CUnsignedInt($1), timeout, &inProgress) }
        let failure = serviceSocket < 0 ? String(cString: strerror(errno)) : nil
        state = .closed
        // The pool's replacement for this connection, after a few milliseconds: its setup (on work's loop and on
        // home's) would otherwise share the CPU with the service's first answer.
        let agent = agent
        context.eventLoop.scheduleTask(in: Self.replacementDelay) { agent.replaceUsed() }
        if let failure {
            Self.connectFailed(service: service, counters: counters, logger: agent.logger, reason: failure)
            context.close(promise: nil)
            return
        }
        var toService: [UInt8] = service.proxyProtocol ? ProxyProtocolV2.header(source: connect.client, destination: connect.listener) : []
        let alreadyRead = reader.takeRemaining().map { Array($0.readableBytesView) } ?? []
        toService += alreadyRead
        guard let dataSocket = SpliceEngine.takeDescriptor(context.channel, known: socket) else {
            Glibc.close(serviceSocket)
            Self.connectFailed(service: service, counters: counters, logger: agent.logger,
                               reason: "the data connection could not be handed to the kernel relay")
            context.close(promise: nil)
            return
        }
        // The session counts as active, and the client's bytes NIO already read as sent, once the service
        // connection is made: a refused or silent service has neither.
        let established = Atomic<Bool>(false)
        let establish: @Sendable () -> Void = {
            established.store(true, ordering: .relaxed)
            counters.active.add(1)
            counters.bytesToService.add(alreadyRead.count)
        }
        let logger = agent.logger
        let pending = inProgress != 0 ? SpliceEngine.PendingConnect(established: establish) { reason in
            Self.connectFailed(service: service, counters: counters, logger: logger, reason: reason)
        } : nil
        if pending == nil { establish() }
        engine.start(.init(first: dataSocket, second: serviceSocket, toSecond: toService, toFirst: [],
                           countFirstToSecond: [counters.bytesToService], countSecondToFirst: [counters.bytesFromService],
                           connecting: pending) {
            if established.load(ordering: .relaxed) { counters.active.add(-1) }
        })
        context.close(promise: nil)
    }

    /// The kernel relay: both sockets leave NIO for the splice engine, the PROXY header and the client bytes
    /// already read going to the service first. Both channels are on this event loop and neither is reading.
    private func splice(to target: Channel, connect: Connect, service: WorkConfig.Service, counters: WorkServiceCounters,
                        context: ChannelHandlerContext, data: Channel, engine: SpliceEngine) {
        var toService: [UInt8] = service.proxyProtocol ? ProxyProtocolV2.header(source: connect.client, destination: connect.listener) : []
        for chunk in pending { toService.append(contentsOf: chunk.readableBytesView) }
        counters.bytesToService.add(pending.reduce(0) { $0 + $1.readableBytes })
        pending = []
        state = .closed
        guard let dataSocket = SpliceEngine.takeDescriptor(data, known: socket) else {
            target.close(promise: nil)
            context.close(promise: nil)
            return
        }
        guard let serviceSocket = SpliceEngine.takeDescriptor(target) else {
            Glibc.close(dataSocket)
            target.close(promise: nil)
            context.close(promise: nil)
            return
        }
        counters.active.add(1)
        target.close(promise: nil)
        context.close(promise: nil)
        // Half-close that arrived while the service connection was being made is still in the socket: the
        // engine reads the end of input again.
        engine.start(.init(first: dataSocket, second: serviceSocket, toSecond: toService, toFirst: [],
                           countFirstToSecond: [counters.bytesToService], countSecondToFirst: [counters.bytesFromService]) {
            counters.active.add(-1)
        })
    }
}
