import Synchronization

final class WorkServiceCounters: Sendable {
    let sessions = ByteCount()
    let active = ByteCount()
    let connectFailures = ByteCount()
    let bytesToService = ByteCount()
    let bytesFromService = ByteCount()
}

final class WorkCounters: Sendable {
    let commandConnects = ByteCount()
    let commandFailures = ByteCount()
    let authRefused = ByteCount()
    let openDataRequests = ByteCount()
    let dataConnections = ByteCount()
    let dataFailures = ByteCount()
    let connectRequests = ByteCount()
    let services: [String: WorkServiceCounters]

    init(services: [String]) {
        self.services = Dictionary(uniqueKeysWithValues: services.map { ($0, WorkServiceCounters()) })
    }
}

/// The JSON the status socket of fwtunnel-work answers (documented in CONFIG.md).
struct WorkStatus: Encodable {
    struct Service: Encodable {
        var target: String
        var proxyProtocol: Bool
        var sessions, active, connectFailures, bytesToService, bytesFromService: Int
    }

    struct Pool: Encodable {
        var idle, opening, target, minimum, maximum: Int
    }

    var role = "work"
    var protocolVersion = Int(Frame.version)
    var pid: Int32
    var name: String
    var home: String
    var tls: Bool
    var connected: Bool
    var commandConnects, commandFailures, authRefused, openDataRequests, connectRequests, dataConnections, dataFailures: Int
    var nextReconnectSeconds: Double?
    var pool: Pool
    var services: [String: Service]
    /// Relays running in the kernel (splice) now; nil when this agent relays in user space (TLS, or splice off).
    var splicedRelays: Int?
}
