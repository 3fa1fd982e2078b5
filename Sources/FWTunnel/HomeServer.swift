import FWBase
import FoundationEssentials
import Logging
import NIOCore
import NIOPosix
import NIOSSL
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// fwtunnel-home: listens for clients on each service's port and for work agents on the agent port, and links
/// each allowed client to a data connection from an agent serving its service.
public final class HomeServer: Sendable {
    public let config: HomeConfig
    let secret: Secret
    let logger: Logger
    let group: MultiThreadedEventLoopGroup
    let tls: NIOSSLContext?
    let state: Mutex<HomeState>
    let counters: HomeCounters
    private let channels = Mutex<[Channel]>([])
    /// The kernel relay for linked clients, when the agent port is clear (`"tls": false`) and `splice` is on.
    let splicer = Mutex<SpliceEngine?>(nil)
    /// Whether linked connections go to the splice engine (then authenticated data connections leave NIO).
    var splices: Bool { splicer.withLock { $0 } != nil }
    /// The kernel relay's client path: accepts clients and watches the pool's idle sockets (with `splicer`).
    let gate = Mutex<ClientGate?>(nil)
    /// Clients and agents' connections on NIO, closed before the event loops stop.
    private let live = LiveChannels()
    private let nextSocketID = Atomic<UInt64>(0)
    private let startedAt = ContinuousClock.now

    /// Loads the secret, the allowlists and the TLS certificate; binds nothing yet.
    public init(config: HomeConfig, logger: Logger, threads: Int = System.coreCount) throws {
        self.config = config
        self.logger = logger
        secret = try Secret.load(path: config.secretFile)
        tls = try config.tls.map { try TunnelTLS.serverContext(certificate: $0.certificate, key: $0.key) }
        var initial = HomeState()
        for file in config.allowlistFiles { initial.allowlists[file] = try Allowlist.load(path: file) }
        state = Mutex(initial)
        counters = HomeCounters(services: config.services.map(\.name))
        group = MultiThreadedEventLoopGroup(numberOfThreads: max(1, threads))
    }

    /// Binds the service ports, the agent port and the status socket.
    public func start() async throws {
        do {
            // With the kernel relaying, the event loops only admit clients and authenticate agents: all of that on
            // one loop means a new client is linked without a single hop between threads (each hop is a wake-up
            // on the path of its first byte). Relaying on NIO (TLS) spreads connections over every loop instead.
            var children: EventLoopGroup = group
            if config.splice, tls == nil, let engine = await SpliceEngine.make(group: group, logger: logger) {
                splicer.withLock { $0 = engine }
                children = group.next()
            }
            if splices {
                let gate = try ClientGate(services: config.services.map { ($0, $0.allowlistFile ?? config.allowlistFile) },
                                          heartbeatInterval: config.heartbeatInterval, handlers: gateHandlers)
                self.gate.withLock { $0 = gate }
            } else {
                for service in config.services {
                    let channel = try await bindClientListener(service, children: children)
                    channels.withLock { $0.append(channel) }
                }
            }
            for service in config.services {
                logger.info("listening for clients", metadata: ["service": "\(service.name)", "address": "\(service.listen)"])
            }
            for service in config.services {
                guard let path = service.probeSocket else { continue }
                let channel = try await bindProbeListener(service, path: path, children: children)
                channels.withLock { $0.append(channel) }
            }
            let agents = try await bindAgentListener(children: children)
            channels.withLock { $0.append(agents) }
            logger.info("listening for agents", metadata: ["address": "\(config.agentListen)", "tls": "\(tls != nil)"])
            if let path = config.statusSocket {
                let socket = try await StatusSocket.bind(path: path, group: group) { [self] in StatusJSON.encode(self.status()) }
                channels.withLock { $0.append(socket) }
            }
        } catch {
            await shutdown()
            throw error
        }
    }

    /// Closes every listener and connection.
    public func shutdown() async {
        let all = channels.withLock { channels in defer { channels = [] }; return channels }
        for channel in all { try? await channel.close() }
        // Under one lock: nothing more is dispatched or pooled, and what waits or is pooled is taken out, to be
        // closed here once (the agents' command connections closing later find nothing left to close or move).
        let (idle, waiting) = state.withLock { state in
            state.stopping = true
            var idle: [DataConnection] = [], waiting: [WaitingClient] = state.unassigned.values.flatMap { $0 }
            for session in Array(state.agents.keys) {
                idle += state.agents[session]!.idle
                waiting += state.agents[session]!.waiting
                state.agents[session]!.idle = []
                state.agents[session]!.waiting = []
            }
            state.unassigned = [:]
            return (idle, waiting)
        }
        if let gate = gate.withLock({ $0 }) { await WorkerThread.offPool { gate.stop() } }  // joins its thread
        closeIdle(idle)
        for client in waiting { closeClient(client) }
        gate.withLock { $0 = nil }
        await live.closeAll()
        if let engine = splicer.withLock({ engine in defer { engine = nil }; return engine }) {
            await WorkerThread.offPool { engine.shutdown() }  // joins the relay threads
        }
        try? await group.shutdownGracefully()
    }

    // MARK: Allowlist reload (SIGHUP)

    /// Rereads every allowlist file. A file that cannot be read or parsed keeps its previous list; live sessions
    /// are never touched (the allowlist decides only at connect time).
    public func reloadAllowlists() {
        var loaded: [String: Allowlist] = [:]
        var failure: String?
        for file in config.allowlistFiles {
            do { loaded[file] = try Allowlist.load(path: file) } catch { failure = "\(error)" }
        }
        state.withLock { state in
            for (file, list) in loaded { state.allowlists[file] = list }
            state.lastReloadError = failure
        }
        if let failure {
            counters.allowlistReloadFailures.add(1)
            logger.error("allowlist reload failed; the previous list stays in force", metadata: ["reason": "\(failure)"])
        } else {
            counters.allowlistReloads.add(1)
            logger.notice("allowlist reloaded", metadata: ["entries": "\(loaded.values.reduce(0) { $0 + $1.networks.count })"])
        }
    }

    // MARK: Clients

    private func bindClientListener(_ service: HomeConfig.Service, children: EventLoopGroup) async throws -> Channel {
        let listener = Endpoint(try SocketAddress.makeAddressResolvingHost(service.listen.host, port: service.listen.port))
            ?? Endpoint(address: [0, 0, 0, 0], port: UInt16(service.listen.port))
        let allowlistFile = service.allowlistFile ?? config.allowlistFile
        return try await SocketTuning.listener(ServerBootstrap(group: children.next(), childGroup: children))
            .childChannelInitializer { [self] channel in
                live.add(channel)
                return channel.eventLoop.makeCompletedFuture {
                    try SocketTuning.tune(channel, autoRead: false)
                    try channel.pipeline.syncOperations.addHandler(
                        ClientAdmissionHandler(server: self, service: service.name, allowlistFile: allowlistFile, listener: listener))
                }
            }
            .bind(host: service.listen.host, port: service.listen.port)
            .get()
    }

    /// The service's probe socket: its connections are clients that skip the allowlist (only root can connect:
    /// the socket is 0600), so root on home can test the whole path without being in the allowlist.
    private func bindProbeListener(_ service: HomeConfig.Service, path: String, children: EventLoopGroup) async throws -> Channel {
        let listener = Endpoint(address: [127, 0, 0, 1], port: 0)
        let channel = try await ServerBootstrap(group: children.next(), childGroup: children)
            .childChannelOption(.autoRead, value: false)
            .childChannelOption(.allowRemoteHalfClosure, value: true)
            .childChannelInitializer { [self] channel in
                live.add(channel)
                return channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(
                        ClientAdmissionHandler(server: self, service: service.name, allowlistFile: nil, listener: listener))
                }
            }
            .bind(unixDomainSocketPath: path, cleanupExistingSocketFile: true)
            .get()
        chmod(path, 0o600)
        return channel
    }

    /// The allowlist and the limits decide before a byte is read (the child starts with auto-read off) and before
    /// any agent hears of the client.
    func admit(_ channel: Channel, service: String, allowlistFile: String?, listener: Endpoint) {
        let address = channel.remoteAddress
        guard let id = admission(service: service, allowlistFile: allowlistFile, address: address) else {
            channel.close(promise: nil)
            return
        }
        let ip = Endpoint(address)?.address ?? []
        channel.closeFuture.whenComplete { [self] _ in
            // A client handed to the splice engine is closed here only as a NIO channel; the engine reports its end.
            if state.withLock({ $0.splicedEnd(id: id) }) { clientClosed(id: id, ip: ip) }
        }
        dispatch(admitted(id, end: .channel(channel), address: address, service: service, listener: listener))
        channel.eventLoop.scheduleTask(in: .interval(config.clientWait)) { [self] in waitExpired(id: id) }
    }

    /// The client gate's work, as home's policy says: admission, linking, the idle sockets' heartbeats and deaths.
    private var gateHandlers: ClientGate.Handlers {
        .init(
            accepted: { [self] socket, address, listener in
                guard let id = admission(service: listener.service, allowlistFile: listener.allowlistFile, address: address) else {
                    close(socket)
                    return nil
                }
                let client = admitted(id, end: .socket(socket), address: address, service: listener.service, listener: listener.endpoint)
                dispatch(client)
                return (id, client.deadline)
            },
            idleEvent: { [self] id in
                guard let socket = state.withLock({ $0.removeIdleSocket(id: id) }) else { return }
                logger.debug("idle data connection ended by work")
                closeIdle([.socket(id: id, fd: socket)])
            },
            clientEvent: { [self] id in
                guard let client = state.withLock({ $0.removeWaiting(id: id) }) else { return }  // linked meanwhile
                logger.debug("client gone while it waited", metadata: ["service": "\(client.connect.service)", "client": "\(describe(client.address))"])
                closeClient(client)
            },
            heartbeat: { [self] in sendIdleHeartbeats() },
            waitExpired: { [self] id in waitExpired(id: id) },
            exhausted: { [self] listener, reason in
                logger.error("cannot accept clients for a moment", metadata: ["service": "\(listener.service)", "reason": "\(reason)"])
            },
            stopped: { [self] reason in
                logger.critical("the client gate stopped: fwtunnel-home exits", metadata: ["reason": "\(reason)"])
                exit(EXIT_FAILURE)
            })
    }

    /// An admitted client, as it waits: its Connect frame, and the end of its wait.
    private func admitted(_ id: Int, end: ClientEnd, address: SocketAddress?, service: String, listener: Endpoint) -> WaitingClient {
        WaitingClient(id: id, end: end, address: address,
                      connect: Connect(service: service, client: Endpoint(address) ?? listener, listener: listener),
                      deadline: .now + .nanoseconds(Int64(config.clientWait * 1e9)))
    }

    /// The allowlist, then the limits, for a client of `service` at `address`: its id once admitted (it counts as
    /// connected from then on), nil when refused (counted and logged here; the caller closes it).
    private func admission(service: String, allowlistFile: String?, address: SocketAddress?) -> Int? {
        let counters = self.counters.services[service]!
        let ip = Endpoint(address)?.address ?? []
        enum Decision { case refusedAllowlist, refusedLimit(String), admitted(Int) }
        let decision: Decision = state.withLock { state in
            if let allowlistFile {
                guard state.allowlists[allowlistFile]?.allows(ip) == true else { return .refusedAllowlist }
            }
            guard state.total < config.maxConnections else { return .refusedLimit("total connection limit") }
            guard state.perClient[ip, default: 0] < config.maxConnectionsPerClient else { return .refusedLimit("per-client connection limit") }
            state.total += 1
            state.perClient[ip, default: 0] += 1
            state.nextClientID += 1
            return .admitted(state.nextClientID)
        }
        switch decision {
        case .refusedAllowlist:
            counters.refusedAllowlist.add(1)
            logger.warning("client refused: not in the allowlist", metadata: ["service": "\(service)", "client": "\(describe(address))"])
            return nil
        case .refusedLimit(let reason):
            counters.refusedLimit.add(1)
            logger.warning("client refused: \(reason)", metadata: ["service": "\(service)", "client": "\(describe(address))"])
            return nil
        case .admitted(let id):
            counters.accepted.add(1)
            logger.debug("client accepted", metadata: ["service": "\(service)", "client": "\(describe(address))"])
            return id
        }
    }

    private func clientClosed(id: Int, ip: [UInt8]) {
        state.withLock { state in
            state.total -= 1
            state.perClient[ip, default: 1] -= 1
            if state.perClient[ip] == 0 { state.perClient[ip] = nil }
            _ = state.removeWaiting(id: id)
            state.unlink(id: id)
        }
    }

    /// A client still without a data connection after `clientWait` is closed: better a clear close than a hang.
    private func waitExpired(id: Int) {
        guard let client = state.withLock({ $0.removeWaiting(id: id) }) else { return }
        expire(client)
    }

    private func expire(_ client: WaitingClient) {
        counters.services[client.connect.service]?.waitTimeouts.add(1)
        logger.warning("client closed: no data connection from an agent in time",
                       metadata: ["service": "\(client.connect.service)", "client": "\(describe(client.address))"])
        closeClient(client)
    }

    /// Links the client to an idle data connection, or queues it (and asks an agent for one). A data socket found
    /// dead at the link is closed and the client dispatched again, in this loop (a pool of dead sockets must not
    /// make a deep recursion); a client whose deadline passed while it was between lists is closed here, since
    /// the timer that fired then found it in none.
    func dispatch(_ client: WaitingClient) {
        let gate = gate.withLock { $0 }
        while true {
            if ContinuousClock.now >= client.deadline {
                expire(client)
                return
            }
            let dispatch = state.withLock { state in
                let dispatch = state.dispatch(client)
                // A gate client that waits is watched for a reset meanwhile, as NIO watches its own. The watch starts
                // under the lock it waits under, so a link, which takes it out under the same lock, always finds it
                // watched and stops the watch (`link`).
                if case .socket(let socket) = client.end, let gate {
                    switch dispatch {
                    case .request, .wait: gate.watchClient(socket, id: client.id)
                    case .link, .closed: break
                    }
                }
                return dispatch
            }
            switch dispatch {
            case .link(let client, let data, let agent):
                if link(client, to: data, agent: agent) { return }  // else: again, with the next data connection
            case .request(let command, let count):
                command.writeFrame(.openData(count: UInt16(min(count, Int(UInt16.max)))))
                return
            case .wait:
                return
            case .closed(let client):
                closeClient(client)
                return
            }
        }
    }

    /// Closes a client that will not be linked (it counts as gone once closed).
    private func closeClient(_ client: WaitingClient) {
        switch client.end {
        case .channel(let channel):
            channel.close(promise: nil)  // its close future does the rest
        case .socket(let socket):
            close(socket)
            clientClosed(id: client.id, ip: Endpoint(client.address)?.address ?? [])
        }
    }

    /// Starts the relay: the Connect frame goes out on the data connection, then the client's bytes. False when
    /// the data connection turned out dead before the client was linked to it: it is closed, the client is
    /// unlinked, and the caller dispatches it again (the client never noticed).
    @discardableResult
    func link(_ client: WaitingClient, to data: DataConnection, agent: String) -> Bool {
        let service = counters.services[client.connect.service]!
        let agentCounters = counters.agent(agent)
        let toWork = [service.bytesFromClients, agentCounters.bytesToWork], toClient = [service.bytesToClients, agentCounters.bytesFromWork]
        if case .socket(let socket) = client.end { gate.withLock { $0 }?.forget(socket) }  // if it was watched while it waited
        switch (data, client.end) {
        case (.socket(_, let socket), _):
            guard let engine = splicer.withLock({ $0 }) else {
                // Only while shutting down (the engine is gone): nothing is relayed any more.
                close(socket)
                state.withLock { $0.unlink(id: client.id) }
                closeClient(client)
                return true
            }
            guard splice(client, to: socket, engine: engine, toWork: toWork, toClient: toClient) else { return false }
            agentCounters.sessions.add(1)
        case (.channel(let data), .channel(let channel)):
            agentCounters.sessions.add(1)
            relay(client, channel: channel, to: data, toWork: toWork, toClient: toClient)
        case (.channel(let data), .socket(let socket)):
            // Sockets are clients only when the kernel relays, and then every data connection is a socket too.
            data.close(promise: nil)
            close(socket)
            clientClosed(id: client.id, ip: Endpoint(client.address)?.address ?? [])
        }
        return true
    }

    /// The relay on NIO (TLS, or splice off): the Connect frame, then the client's bytes, through RelayHandlers.
    private func relay(_ client: WaitingClient, channel: Channel, to data: Channel, toWork: [ByteCount], toClient: [ByteCount]) {
        data.eventLoop.execute { [self] in
            guard let handler = try? data.pipeline.syncOperations.handler(type: HomeAgentHandler.self),
                  handler.beginRelay(connect: client.connect, partner: channel, counting: toClient) else {
                // The data connection died while idle, before the client was linked to it: the client never
                // noticed, so it gets another one (its wait deadline still applies).
                state.withLock { $0.unlink(id: client.id) }
                if channel.isActive { dispatch(client) }
                return
            }
            channel.eventLoop.execute {
                do {
                    let pipeline = channel.pipeline.syncOperations
                    try pipeline.addHandler(RelayHandler(partner: data, bytesRead: toWork))
                    // A client that ended before its relay handler was in place: that handler never hears of it.
                    guard channel.isActive else { throw ChannelError.ioOnClosedChannel }
                    let admission = try pipeline.handler(type: ClientAdmissionHandler.self)
                    admission.startRelaying(context: try pipeline.context(handler: admission))
                    channel.setOption(ChannelOptions.autoRead, value: true).whenFailure { _ in }
                } catch {
                    // The data connection is linked already (its Connect frame is out): it ends with the client.
                    channel.close(promise: nil)
                    data.close(promise: nil)
                }
            }
        }
    }

    /// The kernel relay's link, on whichever thread dispatched: the Connect frame is written on the data socket
    /// here, then both sockets go to the engine. False when the data socket turns out dead before the Connect
    /// (closed here; the client never saw it, and the caller dispatches it again).
    private func splice(_ client: WaitingClient, to data: CInt, engine: SpliceEngine, toWork: [ByteCount], toClient: [ByteCount]) -> Bool {
        gate.withLock { $0 }?.forget(data)  // before the Connect: work's answer must not look like an idle socket's end
        // A data socket work has just closed (its end not yet seen by the gate) would take the Connect and then
        // end the client's stream: the client gets another.
        guard DataConnection.isQuiet(socket: data) else {
            close(data)
            state.withLock { $0.unlink(id: client.id) }
            return false
        }
        var frame = ByteBuffer()
        Frame.connect(client.connect).encode(into: &frame)
        let connect = Array(frame.readableBytesView)
        let written = connect.withUnsafeBytes { send(data, $0.baseAddress!, $0.count, Int32(MSG_NOSIGNAL | MSG_DONTWAIT)) }
        guard written > 0 else {
            close(data)
            state.withLock { $0.unlink(id: client.id) }
            return false
        }
        let rest = Array(connect[written...])
        let ip = Endpoint(client.address)?.address ?? []
        switch client.end {
        case .socket(let socket):
            engine.start(.init(first: socket, second: data, toSecond: rest, toFirst: [],
                               countFirstToSecond: toWork, countSecondToFirst: toClient) { [self] in
                if state.withLock({ $0.splicedEnd(id: client.id) }) { clientClosed(id: client.id, ip: ip) }
            })
        case .channel(let channel):
            // A client NIO accepted (a probe socket's): its socket leaves NIO on its own loop, with what NIO held.
            channel.eventLoop.execute { [self] in
                let pipeline = channel.pipeline.syncOperations
                guard let admission = try? pipeline.handler(type: ClientAdmissionHandler.self),
                      let socket = SpliceEngine.takeDescriptor(channel) else {
                    close(data)
                    channel.close(promise: nil)
                    return
                }
                let fromClient = admission.takeHeld()
                for counter in toWork { counter.add(fromClient.count) }
                state.withLock { $0.spliced[client.id] = 2 }
                engine.start(.init(first: socket, second: data, toSecond: rest + fromClient, toFirst: [],
                                   countFirstToSecond: toWork, countSecondToFirst: toClient) { [self] in
                    if state.withLock({ $0.splicedEnd(id: client.id) }) { clientClosed(id: client.id, ip: ip) }
                })
                channel.close(promise: nil)
            }
        }
        return true
    }

    // MARK: Agents

    private func bindAgentListener(children: EventLoopGroup) async throws -> Channel {
        try await SocketTuning.listener(ServerBootstrap(group: children.next(), childGroup: children))
            .childChannelInitializer { [self] channel in
                live.add(channel)
                return channel.eventLoop.makeCompletedFuture {
                    try SocketTuning.tune(channel)
                    if let tls { try channel.pipeline.syncOperations.addHandler(NIOSSLServerHandler(context: tls)) }
                    try channel.pipeline.syncOperations.addHandler(HomeAgentHandler(server: self))
                }
            }
            .bind(host: config.agentListen.host, port: config.agentListen.port)
            .get()
    }

    /// A command connection authenticated: it becomes the agent's live session (replacing an older session of the
    /// same name, whose peer must be gone), and clients waiting for its services are queued on it. Returns the
    /// session id and how many data connections to ask for now.
    func registerAgent(name: String, services: [String], command: Channel) -> (Session, Int) {
        let session = Session(bytes: Handshake.makeSession())
        counters.agent(name).commandConnections.add(1)
        let (replaced, waiting, elsewhere): ([AgentLink], Int, [WaitingClient]) = state.withLock { state in
            let old = state.agents.filter { $0.value.name == name }
            for key in old.keys { state.agents[key] = nil }
            var link = AgentLink(name: name, services: Set(services), command: command)
            for service in services {
                link.waiting += state.unassigned.removeValue(forKey: service) ?? []
            }
            // The old session's clients stay with the agent for the services it still offers; the others (its
            // config changed) are dispatched again, to another agent of theirs or to wait for one.
            var elsewhere: [WaitingClient] = []
            for agent in old.values {
                for client in agent.waiting {
                    if link.services.contains(client.connect.service) { link.waiting.append(client) } else { elsewhere.append(client) }
                }
            }
            state.agents[session] = link
            return (Array(old.values), link.waiting.count, elsewhere)
        }
        for agent in replaced {
            logger.notice("agent reconnected; closing its previous session", metadata: ["agent": "\(name)"])
            agent.command.close(promise: nil)
            closeIdle(agent.idle)
        }
        for client in elsewhere { dispatch(client) }
        logger.notice("agent connected", metadata: ["agent": "\(name)", "services": "\(services.joined(separator: ","))",
                                                     "peer": "\(describe(command.remoteAddress))"])
        return (session, waiting)
    }

    /// The agent's command connection is gone: its idle data connections close, its waiting clients go to
    /// another agent of their service (or wait for one). Sessions already relaying are left alone.
    func unregisterAgent(session: Session) {
        guard let agent = state.withLock({ $0.agents.removeValue(forKey: session) }) else { return }
        logger.notice("agent disconnected", metadata: ["agent": "\(agent.name)"])
        closeIdle(agent.idle)
        for client in agent.waiting { dispatch(client) }
    }

    enum DataArrival { case refused, idle, link(WaitingClient) }

    /// Whether `session` is the live session of agent `name` (a data connection can be welcomed).
    func isLive(session: Session, name: String) -> Bool {
        state.withLock { $0.agents[session]?.name == name }
    }

    /// An authenticated data connection: linked to the agent's oldest waiting client, or kept idle in its pool
    /// (a socket starts being watched by the gate as it enters the pool).
    func dataArrived(session: Session, name: String, connection: DataConnection) -> DataArrival {
        let gate = gate.withLock { $0 }
        let result: DataArrival = state.withLock { state in
            guard !state.stopping, let agent = state.agents[session], agent.name == name else { return .refused }
            if !agent.waiting.isEmpty {
                let client = state.agents[session]!.waiting.removeFirst()
                state.markLinked(client, agent: name)
                return .link(client)
            }
            guard agent.idle.count < 1024 else { return .refused }
            if case .socket(let id, let fd) = connection {
                guard let gate, gate.watch(fd, id: id) else { return .refused }
            }
            state.agents[session]!.idle.append(connection)
            return .idle
        }
        if case .refused = result { counters.staleDataConnections.add(1) } else { counters.agent(name).dataConnections.add(1) }
        return result
    }

    /// A data connection's socket, leaving NIO when the kernel relays: an id for the gate's watch.
    func makeDataSocket(_ fd: CInt) -> DataConnection {
        .socket(id: nextSocketID.wrappingAdd(1, ordering: .relaxed).newValue, fd: fd)
    }

    func idleDataClosed(session: Session, channel: Channel) {
        state.withLock { state in
            state.agents[session]?.idle.removeAll { if case .channel(let idle) = $0 { idle === channel } else { false } }
        }
    }

    /// Closes data connections taken out of a pool (a socket stops being watched first).
    func closeIdle(_ connections: [DataConnection]) {
        let gate = gate.withLock { $0 }
        for connection in connections {
            switch connection {
            case .channel(let channel):
                channel.close(promise: nil)
            case .socket(_, let fd):
                gate?.forget(fd)
                close(fd)
            }
        }
    }

    /// home's heartbeat on every idle data socket, written under the state's lock: a socket taken for a client
    /// (under the same lock) has its Connect frame written only after any heartbeat already sent on it, so a
    /// heartbeat can never follow the Connect into the client's byte stream. A socket that does not take the whole
    /// frame at once (its peer stopped reading) is dead.
    private func sendIdleHeartbeats() {
        var frame = ByteBuffer()
        Frame.heartbeat.encode(into: &frame)
        let heartbeat = Array(frame.readableBytesView)
        let dead: [DataConnection] = state.withLock { state in
            var dead: [DataConnection] = []
            for session in Array(state.agents.keys) {
                state.agents[session]!.idle.removeAll { connection in
                    guard case .socket(_, let fd) = connection else { return false }
                    let sent = heartbeat.withUnsafeBytes { send(fd, $0.baseAddress!, $0.count, Int32(MSG_NOSIGNAL | MSG_DONTWAIT)) }
                    if sent == heartbeat.count { return false }
                    dead.append(connection)
                    return true
                }
            }
            return dead
        }
        closeIdle(dead)
    }

    // MARK: Status

    func status() -> HomeStatus {
        let now = ContinuousClock.now
        return state.withLock { state in
            var agents: [String: HomeStatus.Agent] = [:]
            for name in counters.agentNames {
                let c = counters.agent(name)
                let link = state.agents.values.first { $0.name == name }
                agents[name] = HomeStatus.Agent(
                    connected: link != nil, services: link.map { Array($0.services).sorted() } ?? [],
                    active: state.activeByAgent[name] ?? 0, sessions: c.sessions.total,
                    idleDataConnections: link?.idle.count ?? 0, waiting: link?.waiting.count ?? 0,
                    commandConnections: c.commandConnections.total, dataConnections: c.dataConnections.total,
                    bytesToWork: c.bytesToWork.total, bytesFromWork: c.bytesFromWork.total)
            }
            var services: [String: HomeStatus.Service] = [:]
            for service in config.services {
                let c = counters.services[service.name]!
                services[service.name] = HomeStatus.Service(
                    listen: service.listen.description,
                    accepted: c.accepted.total, refusedAllowlist: c.refusedAllowlist.total, refusedLimit: c.refusedLimit.total,
                    waitTimeouts: c.waitTimeouts.total,
                    active: state.linked.values.filter { $0.service == service.name }.count,
                    waiting: state.waitingCount(service: service.name),
                    bytesFromClients: c.bytesFromClients.total, bytesToClients: c.bytesToClients.total,
                    agents: state.agents.values.filter { $0.services.contains(service.name) }.map(\.name).sorted())
            }
            return HomeStatus(
                pid: getpid(), uptimeSeconds: Double((now - startedAt).components.seconds), connections: state.total,
                failedAuth: counters.failedAuth.total, handshakeFailures: counters.handshakeFailures.total,
                protocolErrors: counters.protocolErrors.total, staleDataConnections: counters.staleDataConnections.total,
                allowlist: .init(entries: state.allowlists.values.reduce(0) { $0 + $1.networks.count },
                                 reloads: counters.allowlistReloads.total, reloadFailures: counters.allowlistReloadFailures.total,
                                 lastReloadError: state.lastReloadError),
                services: services, agents: agents, splicedRelays: splicer.withLock { $0 }?.active)
        }
    }
}

/// Admits a client once its channel is active (registered, addresses known); auto-read is still off, so nothing
/// has been read. Until the relay starts it holds what NIO reads anyway: a client that half-closes while it waits
/// has its pending bytes and the end of input read (the kernel's receive buffer bounds them).
final class ClientAdmissionHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer

    let server: HomeServer
    let service: String
    /// nil: a probe socket's client, which the allowlist does not check.
    let allowlistFile: String?
    let listener: Endpoint
    private var held: [NIOAny] = []
    private var heldInputClosed = false
    private var relaying = false

    init(server: HomeServer, service: String, allowlistFile: String?, listener: Endpoint) {
        self.server = server
        self.service = service
        self.allowlistFile = allowlistFile
        self.listener = listener
    }

    func channelActive(context: ChannelHandlerContext) {
        context.fireChannelActive()
        server.admit(context.channel, service: service, allowlistFile: allowlistFile, listener: listener)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        if relaying { context.fireChannelRead(data) } else { held.append(data) }
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        if relaying { context.fireChannelReadComplete() }
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if !relaying, case ChannelEvent.inputClosed = event {
            heldInputClosed = true
            return
        }
        context.fireUserInboundEventTriggered(event)
    }

    /// For the kernel relay: what was read before the client was linked (auto-read is off until then, so normally
    /// nothing), and no more relaying here.
    func takeHeld() -> [UInt8] {
        var bytes: [UInt8] = []
        for data in held { bytes.append(contentsOf: unwrapInboundIn(data).readableBytesView) }
        held = []
        return bytes
    }

    /// The relay handler is in place behind this one: pass on what was held, then everything as it comes.
    func startRelaying(context: ChannelHandlerContext) {
        relaying = true
        let held = self.held
        self.held = []
        for data in held { context.fireChannelRead(data) }
        if !held.isEmpty { context.fireChannelReadComplete() }
        if heldInputClosed { context.fireUserInboundEventTriggered(ChannelEvent.inputClosed) }
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        context.close(promise: nil)
    }
}

func describe(_ address: SocketAddress?) -> String {
    guard let address else { return "unknown" }
    switch address {
    case .v4, .v6: return "\(address.ipAddress ?? "?"):\(address.port ?? 0)"
    default: return "\(address)"
    }
}

extension HomeServer {
    /// What --check-config prints: the config as understood, never the secret.
    public var checkSummary: String {
        var lines = ["\(config.path): OK",
                     "agents connect to \(config.agentListen) (\(tls == nil ? "tls: false" : "TLS 1.3"))"]
        for service in config.services {
            let file = service.allowlistFile ?? config.allowlistFile
            let entries = state.withLock { $0.allowlists[file]?.networks.count ?? 0 }
            lines.append("service \(service.name): clients on \(service.listen), allowlist \(file) (\(entries) entries)")
        }
        lines.append("secret: \(config.secretFile) (mode 0600)")
        if let socket = config.statusSocket { lines.append("status socket: \(socket)") }
        return lines.joined(separator: "\n")
    }
}
