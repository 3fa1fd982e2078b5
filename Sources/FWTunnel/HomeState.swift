import Glibc
import NIOCore

/// A session id, as a dictionary key.
struct Session: Hashable, Sendable {
    var bytes: [UInt8]
}

/// A client's connection until it is linked: a NIO channel (TLS, splice off, probe sockets) or, when the kernel
/// relays, a socket the client gate accepted.
enum ClientEnd: Sendable {
    case channel(Channel)
    case socket(CInt)
}

/// A client that passed the allowlist and limits and waits for a data connection.
struct WaitingClient: Sendable {
    var id: Int
    var end: ClientEnd
    /// Its address, for the logs (nil when the kernel did not say).
    var address: SocketAddress?
    var connect: Connect
    /// When its wait for a data connection ends (`limits.clientWait` after it was admitted), whichever list it
    /// waits in by then.
    var deadline: ContinuousClock.Instant
}

/// An authenticated data connection waiting in an agent's pool: a NIO channel, or (when the kernel relays) a
/// socket that left NIO once authenticated, watched by the client gate under `id`.
enum DataConnection: Sendable {
    case channel(Channel)
    case socket(id: UInt64, fd: CInt)

    /// Whether this connection lives on the same NIO event loop as `client` (then a NIO relay never crosses threads).
    func sharesLoop(with client: ClientEnd) -> Bool {
        if case .channel(let data) = self, case .channel(let client) = client { return data.eventLoop === client.eventLoop }
        return false
    }

    /// Whether a pooled data socket is still quiet and open: work sends nothing on an idle data connection, so
    /// any byte or end of input waiting on it means work closed it (or broke the protocol), and a Connect written
    /// on it would lose its client. Looks without taking anything.
    static func isQuiet(socket: CInt) -> Bool {
        var peek: UInt8 = 0
        let waiting = recv(socket, &peek, 1, Int32(MSG_PEEK | MSG_DONTWAIT))
        return waiting < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)
    }
}

/// One authenticated command connection of a work agent, with its idle data connections and the clients waiting
/// for one.
struct AgentLink {
    var name: String
    var services: Set<String>
    var command: Channel
    var idle: [DataConnection] = []
    var waiting: [WaitingClient] = []
}

/// What home's connections share, behind one lock: every operation is a few dictionary and array steps, and the
/// channel work (writes, relays, closes) happens after the lock is released.
struct HomeState {
    var allowlists: [String: Allowlist] = [:]
    var agents: [Session: AgentLink] = [:]
    /// Clients of services with no agent connected right now.
    var unassigned: [String: [WaitingClient]] = [:]
    var perClient: [[UInt8]: Int] = [:]
    var total = 0
    var nextClientID = 0
    /// Linked clients: client id -> agent and service (for least-connections and the status).
    var linked: [Int: (agent: String, service: String)] = [:]
    var activeByAgent: [String: Int] = [:]
    /// Clients whose relay runs in the splice engine: their NIO channel is closed, the connection is not. The
    /// client is gone once both the NIO close and the engine's end were seen (in either order): how many remain.
    var spliced: [Int: Int] = [:]

    /// One of the two ends of a spliced client was seen; true when it was the last (the client is gone now).
    mutating func splicedEnd(id: Int) -> Bool {
        guard let left = spliced[id] else { return true }
        if left <= 1 { spliced[id] = nil; return true }
        spliced[id] = left - 1
        return false
    }
    var lastReloadError: String?
    /// home is shutting down: nothing more is dispatched or pooled.
    var stopping = false

    enum Dispatch {
        /// Link the client to this idle data connection now.
        case link(WaitingClient, data: DataConnection, agent: String)
        /// The client waits in this agent's queue; ask the agent for `count` data connections.
        case request(command: Channel, count: Int)
        /// No agent for the service: the client waits for one to connect.
        case wait
        /// home is shutting down: close the client.
        case closed(WaitingClient)
    }

    /// Least connections: the agent serving `service` with the fewest linked plus waiting clients; ties go to one
    /// with an idle data connection.
    func chooseAgent(for service: String) -> Session? {
        agents.filter { $0.value.services.contains(service) }
            .min { a, b in
                let loadA = (activeByAgent[a.value.name] ?? 0) + a.value.waiting.count
                let loadB = (activeByAgent[b.value.name] ?? 0) + b.value.waiting.count
                if loadA != loadB { return loadA < loadB }
                return a.value.idle.count > b.value.idle.count
            }?.key
    }

    mutating func dispatch(_ client: WaitingClient) -> Dispatch {
        if stopping { return .closed(client) }
        guard let session = chooseAgent(for: client.connect.service) else {
            unassigned[client.connect.service, default: []].append(client)
            return .wait
        }
        let agent = agents[session]!
        if !agent.idle.isEmpty {
            // Prefer a data connection on the client's own event loop: the relay then never crosses threads.
            let index = agent.idle.firstIndex { $0.sharesLoop(with: client.end) } ?? 0
            let data = agents[session]!.idle.remove(at: index)
            markLinked(client, agent: agent.name)
            return .link(client, data: data, agent: agent.name)
        }
        agents[session]!.waiting.append(client)
        return .request(command: agent.command, count: 1)
    }

    /// Takes the idle socket `id` out of whichever pool holds it: its descriptor, nil when it is no longer idle.
    mutating func removeIdleSocket(id: UInt64) -> CInt? {
        for (session, agent) in agents {
            guard let index = agent.idle.firstIndex(where: { if case .socket(id, _) = $0 { true } else { false } }) else { continue }
            guard case .socket(_, let fd) = agents[session]!.idle.remove(at: index) else { return nil }
            return fd
        }
        return nil
    }

    mutating func markLinked(_ client: WaitingClient, agent: String) {
        linked[client.id] = (agent, client.connect.service)
        activeByAgent[agent, default: 0] += 1
    }

    mutating func unlink(id: Int) {
        if let link = linked.removeValue(forKey: id) { activeByAgent[link.agent, default: 1] -= 1 }
    }

    /// Removes a waiting client wherever it waits; true if it was waiting.
    mutating func removeWaiting(id: Int) -> WaitingClient? {
        for (session, agent) in agents {
            if let index = agent.waiting.firstIndex(where: { $0.id == id }) {
                return agents[session]!.waiting.remove(at: index)
            }
        }
        for (service, clients) in unassigned {
            if let index = clients.firstIndex(where: { $0.id == id }) {
                return unassigned[service]!.remove(at: index)
            }
        }
        return nil
    }

    func waitingCount(service: String) -> Int {
        agents.values.reduce(0) { $0 + $1.waiting.filter { $0.connect.service == service }.count }
            + (unassigned[service]?.count ?? 0)
    }
}
