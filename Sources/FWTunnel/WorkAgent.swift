import FWBase
import FoundationEssentials
import Logging
import NIOCore
import NIOPosix
import NIOSSL
import Synchronization

/// fwtunnel-work: keeps one authenticated command connection to home (reconnecting with backoff), a warm pool of
/// authenticated data connections, and links each data connection home hands a client to a fresh connection to
/// the named service.
public final class WorkAgent: Sendable {
    public let config: WorkConfig
    let secret: Secret
    let logger: Logger
    let group: MultiThreadedEventLoopGroup
    let tls: NIOSSLContext?
    let counters: WorkCounters
    let services: [String: WorkConfig.Service]
    /// The targets given as IP addresses, parsed once: the kernel relay connects to them without a resolver.
    let literalTargets: [String: SocketAddress]
    private let state: Mutex<State>
    private let clock = ContinuousClock.now
    /// The kernel relay for linked data connections, when the connection to home is clear and `splice` is on.
    let splicer = Mutex<SpliceEngine?>(nil)
    /// The command connection, data connections and service connections on NIO, closed before the loops stop.
    let live = LiveChannels()

    struct State {
        var stopped = false
        var command: Channel?
        var session: [UInt8]?
        /// Bumped on every new session: events from connections of an older session are ignored.
        var generation = 0
        var idle: [ObjectIdentifier: Channel] = [:]
        var opening = 0
        var sizer: PoolSizer
        var backoff: Backoff
        var nextReconnect: Double?
        var listeners: [Channel] = []
    }

    public init(config: WorkConfig, logger: Logger, threads: Int = System.coreCount) throws {
        self.config = config
        self.logger = logger
        secret = try Secret.load(path: config.secretFile)
        tls = config.pinnedFingerprint == nil ? nil : try TunnelTLS.clientContext()
        counters = WorkCounters(services: config.services.map(\.name))
        services = Dictionary(uniqueKeysWithValues: config.services.map { ($0.name, $0) })
        literalTargets = Dictionary(uniqueKeysWithValues: config.services.compactMap { service in
            (try? SocketAddress(ipAddress: service.target.host, port: service.target.port)).map { (service.name, $0) }
        })
        state = Mutex(State(sizer: PoolSizer(minimum: config.poolMinimum, maximum: config.poolMaximum),
                            backoff: Backoff(initial: config.reconnectInitial, maximum: config.reconnectMaximum)))
        group = MultiThreadedEventLoopGroup(numberOfThreads: max(1, threads))
    }

    private var now: Double {
        let elapsed = ContinuousClock.now - clock
        return Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
    }

    /// Binds the status socket and starts dialling home; returns at once (the agent runs on its event loops).
    public func start() async throws {
        if let path = config.statusSocket {
            let socket = try await StatusSocket.bind(path: path, group: group) { [self] in StatusJSON.encode(self.status()) }
            state.withLock { $0.listeners.append(socket) }
        }
        if config.splice, tls == nil, let engine = await SpliceEngine.make(group: group, logger: logger) {
            splicer.withLock { $0 = engine }
        }
        group.next().scheduleRepeatedTask(initialDelay: .seconds(5), delay: .seconds(5)) { [self] _ in shrinkPool() }
        connectCommand()
    }

    public func shutdown() async {
        let (command, idle, listeners) = state.withLock { state in
            state.stopped = true
            return (state.command, Array(state.idle.values), state.listeners)
        }
        try? await command?.close()
        for channel in idle + listeners { try? await channel.close() }
        await live.closeAll()
        if let engine = splicer.withLock({ engine in defer { engine = nil }; return engine }) {
            await WorkerThread.offPool { engine.shutdown() }  // joins the relay threads
        }
        try? await group.shutdownGracefully()
    }

    // MARK: Command connection

    private func bootstrap(_ handler: @escaping @Sendable () -> ChannelHandler) -> ClientBootstrap {
        let tls = self.tls, pin = config.pinnedFingerprint
        return ClientBootstrap(group: group)
            .connectTimeout(.interval(config.connectTimeout))
            .channelInitializer { [live] channel in
                live.add(channel)
                return channel.eventLoop.makeCompletedFuture {
                    try SocketTuning.tune(channel)
                    if let tls, let pin {
                        try channel.pipeline.syncOperations.addHandler(try TunnelTLS.clientHandler(context: tls, pinned: pin))
                    }
                    try channel.pipeline.syncOperations.addHandler(handler())
                }
            }
    }

    private func connectCommand() {
        guard !state.withLock({ $0.stopped }) else { return }
        counters.commandConnects.add(1)
        SocketTuning.connect(bootstrap { [self] in WorkCommandHandler(agent: self) }, to: config.home)
            .whenComplete { [self] result in
                switch result {
                case .failure(let error):
                    counters.commandFailures.add(1)
                    logger.warning("cannot reach home", metadata: ["home": "\(config.home)", "error": "\(error)"])
                    scheduleReconnect()
                case .success(let channel):
                    let stopped = state.withLock { state in
                        if !state.stopped { state.command = channel }
                        return state.stopped
                    }
                    if stopped { channel.close(promise: nil) }
                    channel.closeFuture.whenComplete { [self] _ in commandClosed(channel) }
                }
            }
    }

    private func commandClosed(_ channel: Channel) {
        let idle: [Channel] = state.withLock { state in
            guard state.command === channel else { return [] }
            state.command = nil
            state.session = nil
            state.generation += 1
            state.opening = 0
            defer { state.idle = [:] }
            return Array(state.idle.values)
        }
        idle.forEach { $0.close(promise: nil) }
        logger.notice("command connection to home closed")
        scheduleReconnect()
    }

    private func scheduleReconnect() {
        let delay: Double? = state.withLock { state in
            guard !state.stopped else { return nil }
            let delay = state.backoff.next()
            state.nextReconnect = now + delay
            return delay
        }
        guard let delay else { return }
        logger.info("reconnecting to home", metadata: ["in": "\(Int(delay * 1000)) ms"])
        group.next().scheduleTask(in: .interval(delay)) { [self] in connectCommand() }
    }

    /// home accepted the command connection: a new session, a fresh pool.
    func commandReady(session: [UInt8], channel: Channel) {
        state.withLock { state in
            state.session = session
            state.generation += 1
            state.backoff.reset()
            state.nextReconnect = nil
        }
        logger.notice("connected to home", metadata: ["home": "\(config.home)", "services": "\(config.services.map(\.name).joined(separator: ","))"])
        topUp()
    }

    func commandRefused(_ reason: String) {
        counters.authRefused.add(1)
        logger.error("home refused this agent", metadata: ["reason": "\(DisplayEscaping.escaped(reason))"])
    }

    /// home has clients waiting and no idle data connection: open `count` now and grow the pool.
    func openData(count: Int) {
        counters.openDataRequests.add(1)
        let dial: (Int, [UInt8], Int)? = state.withLock { state in
            guard let session = state.session else { return nil }
            state.sizer.demand(count, now: now)
            // Bounded: never more connections being opened than the pool's maximum allows (at least the count).
            let allowed = max(0, max(config.poolMaximum, count) - state.opening)
            let n = min(count, allowed)
            state.opening += n
            return (n, session, state.generation)
        }
        guard let (n, session, generation) = dial else { return }
        for _ in 0..<n { dialData(session: session, generation: generation) }
        topUp()
    }

    // MARK: Data connections

    /// Opens data connections until idle + opening reaches the pool target.
    private func topUp() {
        let dial: (Int, [UInt8], Int)? = state.withLock { state in
            guard let session = state.session else { return nil }
            let need = state.sizer.target - state.idle.count - state.opening
            guard need > 0 else { return nil }
            state.opening += need
            return (need, session, state.generation)
        }
        guard let (n, session, generation) = dial else { return }
        for _ in 0..<n { dialData(session: session, generation: generation) }
    }

    /// Lowers the target after a quiet period. Idle connections above it are not closed here (home may be
    /// handing one to a client at this moment); they are simply not replaced when used.
    private func shrinkPool() {
        state.withLock { state in _ = state.sizer.decay(now: now) }
    }

    private func dialData(session: [UInt8], generation: Int) {
        SocketTuning.connect(bootstrap { [self] in WorkDataHandler(agent: self, session: session, generation: generation) }, to: config.home)
            .whenComplete { [self] result in
                switch result {
                case .failure(let error):
                    counters.dataFailures.add(1)
                    logger.debug("cannot open a data connection", metadata: ["error": "\(error)"])
                    dataGone(generation: generation, wasIdle: false, channel: nil)
                case .success(let channel):
                    counters.dataConnections.add(1)
                    _ = channel
                }
            }
    }

    /// A data connection authenticated and waits in the pool.
    func dataReady(generation: Int, channel: Channel) {
        let current = state.withLock { state in
            guard state.generation == generation else { return false }
            state.opening -= 1
            state.idle[ObjectIdentifier(channel)] = channel
            return true
        }
        if !current { channel.close(promise: nil) }
    }

    /// home linked a client to this data connection: it leaves the pool, and a replacement is opened.
    /// A pooled data connection was taken for a client. Its replacement is dialled by `replaceUsed()`, which the
    /// data connection calls once its service connection is made or has failed (or a few milliseconds later):
    /// dialling at once would put the replacement's setup, on this thread and on home's, in the way of this
    /// client's first byte.
    func dataUsed(generation: Int, channel: Channel) {
        counters.connectRequests.add(1)
        state.withLock { state in
            guard state.generation == generation else { return }
            state.idle[ObjectIdentifier(channel)] = nil
        }
    }

    func replaceUsed() {
        topUp()
    }

    /// A data connection closed before it was used (or failed to open): replaced after a short pause, so a home
    /// that refuses them cannot make work spin.
    func dataGone(generation: Int, wasIdle: Bool, channel: Channel?) {
        let replace = state.withLock { state in
            guard state.generation == generation else { return false }
            if let channel, state.idle.removeValue(forKey: ObjectIdentifier(channel)) != nil { return true }
            if !wasIdle { state.opening = max(0, state.opening - 1) }
            return true
        }
        if replace { group.next().scheduleTask(in: .milliseconds(100)) { [self] in topUp() } }
    }

    // MARK: Status

    func status() -> WorkStatus {
        state.withLock { state in
            WorkStatus(
                pid: getpid(), name: config.name, home: config.home.description, tls: tls != nil,
                connected: state.session != nil,
                commandConnects: counters.commandConnects.total, commandFailures: counters.commandFailures.total,
                authRefused: counters.authRefused.total, openDataRequests: counters.openDataRequests.total,
                connectRequests: counters.connectRequests.total, dataConnections: counters.dataConnections.total,
                dataFailures: counters.dataFailures.total,
                nextReconnectSeconds: state.nextReconnect.map { max(0, $0 - now) },
                pool: .init(idle: state.idle.count, opening: state.opening, target: state.sizer.target,
                            minimum: config.poolMinimum, maximum: config.poolMaximum),
                services: Dictionary(uniqueKeysWithValues: config.services.map { service in
                    let c = counters.services[service.name]!
                    return (service.name, WorkStatus.Service(
                        target: service.target.description, proxyProtocol: service.proxyProtocol,
                        sessions: c.sessions.total, active: c.active.total, connectFailures: c.connectFailures.total,
                        bytesToService: c.bytesToService.total, bytesFromService: c.bytesFromService.total))
                }),
                splicedRelays: splicer.withLock { $0 }?.active)
        }
    }
}

extension WorkAgent {
    /// What --check-config prints: the config as understood, never the secret.
    public var checkSummary: String {
        var lines = ["\(config.path): OK",
                     "agent \(config.name) dials \(config.home) (\(config.pinnedFingerprint.map { "TLS 1.3, pinned \(Fingerprint.format($0))" } ?? "tls: false"))"]
        for service in config.services {
            lines.append("service \(service.name): connects to \(service.target)\(service.proxyProtocol ? " with a PROXY v2 header" : "")")
        }
        lines.append("pool: \(config.poolMinimum) to \(config.poolMaximum) idle data connections")
        lines.append("secret: \(config.secretFile) (mode 0600)")
        if let socket = config.statusSocket { lines.append("status socket: \(socket)") }
        return lines.joined(separator: "\n")
    }
}
