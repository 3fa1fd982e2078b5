import Synchronization

/// What home counts, for the status socket. Byte counters are updated on the event loops without a lock.
final class HomeServiceCounters: Sendable {
    let accepted = ByteCount()
    let refusedAllowlist = ByteCount()
    let refusedLimit = ByteCount()
    let waitTimeouts = ByteCount()
    let bytesFromClients = ByteCount()
    let bytesToClients = ByteCount()
}

final class HomeAgentCounters: Sendable {
    let sessions = ByteCount()
    let commandConnections = ByteCount()
    let dataConnections = ByteCount()
    let bytesToWork = ByteCount()
    let bytesFromWork = ByteCount()
}

final class HomeCounters: Sendable {
    let failedAuth = ByteCount()
    let handshakeFailures = ByteCount()
    let protocolErrors = ByteCount()
    let staleDataConnections = ByteCount()
    let allowlistReloads = ByteCount()
    let allowlistReloadFailures = ByteCount()
    let services: [String: HomeServiceCounters]
    private let agents = Mutex<[String: HomeAgentCounters]>([:])

    init(services: [String]) {
        self.services = Dictionary(uniqueKeysWithValues: services.map { ($0, HomeServiceCounters()) })
    }

    /// The counters of an agent by name; they outlive its connections, so totals survive reconnects.
    func agent(_ name: String) -> HomeAgentCounters {
        agents.withLock { agents in
            if let existing = agents[name] { return existing }
            let made = HomeAgentCounters()
            agents[name] = made
            return made
        }
    }

    var agentNames: [String] { agents.withLock { Array($0.keys) } }
}

/// The JSON the status socket of fwtunnel-home answers (documented in CONFIG.md).
struct HomeStatus: Encodable {
    struct Service: Encodable {
        var listen: String
        var accepted, refusedAllowlist, refusedLimit, waitTimeouts, active, waiting, bytesFromClients, bytesToClients: Int
        var agents: [String]
    }

    struct Agent: Encodable {
        var connected: Bool
        var services: [String]
        var active, sessions, idleDataConnections, waiting, commandConnections, dataConnections, bytesToWork, bytesFromWork: Int
    }

    var role = "home"
    var protocolVersion = Int(Frame.version)
    var pid: Int32
    var uptimeSeconds: Double
    var connections: Int
    var failedAuth, handshakeFailures, protocolErrors, staleDataConnections: Int
    var allowlist: Allowlists
    var services: [String: Service]
    var agents: [String: Agent]
    /// Relays running in the kernel (splice) now; nil when this home relays in user space (TLS, or splice off).
    var splicedRelays: Int?

    struct Allowlists: Encodable {
        var entries: Int
        var reloads: Int
        var reloadFailures: Int
        var lastReloadError: String?
    }
}
