import FWBase
import FoundationEssentials

/// fwtunnel-home's config file (JSON; CONFIG.md documents every key and default).
public struct HomeConfig: Sendable {
    public struct Service: Sendable {
        public var name: String
        /// Where clients connect.
        public var listen: HostPort
        /// This service's own allowlist file instead of the global one.
        public var allowlistFile: String?
        /// A Unix socket (0600) where root on home connects as a client of this service without the allowlist:
        /// how `fwtunnel-home --probe` tests the tunnel end to end from home itself.
        public var probeSocket: String?
    }

    public struct TLSFiles: Sendable {
        public var certificate: String
        public var key: String
    }

    public var path: String
    /// Where work agents connect (command and data connections).
    public var agentListen: HostPort
    /// nil: `"tls": false`, the agent port speaks the protocol in the clear.
    public var tls: TLSFiles?
    public var secretFile: String
    public var allowlistFile: String
    public var statusSocket: String?
    public var services: [Service]
    public var maxConnectionsPerClient: Int
    public var maxConnections: Int
    /// How long a client may wait for a data connection before home closes it.
    public var clientWait: Double
    /// How long an agent connection may take to authenticate.
    public var handshakeTimeout: Double
    public var heartbeatInterval: Double
    public var heartbeatTimeout: Double
    /// Relay linked clear connections in the kernel (splice); false keeps every byte on NIO's user-space relay.
    public var splice: Bool

    public static func load(path: String) throws -> HomeConfig {
        let raw = try ConfigFile.decode(RawHomeConfig.self, path: path)
        func fail(_ message: String) -> ConfigError { ConfigError(file: path, message) }
        guard raw.version == 1 else { throw fail("version \(raw.version) is not supported (this fwtunnel-home reads version 1)") }
        guard !raw.services.isEmpty else { throw fail("services is empty: name at least one service") }
        var seen = Set<String>()
        for service in raw.services {
            guard TunnelName.isValid(service.name) else {
                throw fail("service name \(DisplayEscaping.escaped(service.name)) must be 1-64 of A-Z a-z 0-9 . _ -")
            }
            guard seen.insert(service.name).inserted else { throw fail("service \(service.name) is listed twice") }
        }
        let heartbeat = raw.heartbeat ?? RawHeartbeat()
        guard heartbeat.timeout.value > heartbeat.interval.value else { throw fail("heartbeat.timeout must be longer than heartbeat.interval") }
        let limits = raw.limits ?? RawHomeLimits()
        return HomeConfig(
            path: path, agentListen: raw.agentListen, tls: raw.tls.files, secretFile: raw.secretFile,
            allowlistFile: raw.allowlistFile, statusSocket: raw.statusSocket,
            services: raw.services.map { Service(name: $0.name, listen: $0.listen, allowlistFile: $0.allowlistFile, probeSocket: $0.probeSocket) },
            maxConnectionsPerClient: limits.connectionsPerClient, maxConnections: limits.connections,
            clientWait: limits.clientWait.value, handshakeTimeout: limits.handshakeTimeout.value,
            heartbeatInterval: heartbeat.interval.value, heartbeatTimeout: heartbeat.timeout.value,
            splice: raw.splice ?? true)
    }

    /// Every allowlist file the services use, each once.
    public var allowlistFiles: [String] {
        var files = [allowlistFile]
        for service in services { if let own = service.allowlistFile, !files.contains(own) { files.append(own) } }
        return files
    }
}

// MARK: The JSON shape

private struct RawHomeConfig: Decodable {
    var version: Int
    var agentListen: HostPort
    var tls: RawTLS
    var secretFile: String
    var allowlistFile: String
    var statusSocket: String?
    var services: [RawHomeService]
    var limits: RawHomeLimits?
    var heartbeat: RawHeartbeat?
    var splice: Bool?

    enum CodingKeys: String, CodingKey, CaseIterable {
        case version, agentListen, tls, secretFile, allowlistFile, statusSocket, services, limits, heartbeat, splice
    }

    init(from decoder: Decoder) throws {
        try decoder.rejectUnknownKeys(CodingKeys.allCases.map(\.rawValue))
        let c = try decoder.container(keyedBy: CodingKeys.self)
        version = try c.decode(Int.self, forKey: .version)
        agentListen = try c.decode(HostPort.self, forKey: .agentListen)
        tls = try c.decode(RawTLS.self, forKey: .tls)
        secretFile = try c.decode(String.self, forKey: .secretFile)
        allowlistFile = try c.decode(String.self, forKey: .allowlistFile)
        statusSocket = try c.decodeIfPresent(String.self, forKey: .statusSocket)
        services = try c.decode([RawHomeService].self, forKey: .services)
        limits = try c.decodeIfPresent(RawHomeLimits.self, forKey: .limits)
        heartbeat = try c.decodeIfPresent(RawHeartbeat.self, forKey: .heartbeat)
        splice = try c.decodeIfPresent(Bool.self, forKey: .splice)
    }
}

/// `"tls": false`, or `"tls": {"certificate": "...", "key": "..."}`.
private struct RawTLS: Decodable {
    var files: HomeConfig.TLSFiles?

    enum CodingKeys: String, CodingKey, CaseIterable { case certificate, key }

    init(from decoder: Decoder) throws {
        if let flag = try? decoder.singleValueContainer().decode(Bool.self) {
            guard !flag else {
                throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath,
                    debugDescription: "tls is false or an object with certificate and key files"))
            }
            files = nil
            return
        }
        try decoder.rejectUnknownKeys(CodingKeys.allCases.map(\.rawValue))
        let c = try decoder.container(keyedBy: CodingKeys.self)
        files = HomeConfig.TLSFiles(certificate: try c.decode(String.self, forKey: .certificate), key: try c.decode(String.self, forKey: .key))
    }
}

private struct RawHomeService: Decodable {
    var name: String
    var listen: HostPort
    var allowlistFile: String?
    var probeSocket: String?

    enum CodingKeys: String, CodingKey, CaseIterable { case name, listen, allowlistFile, probeSocket }

    init(from decoder: Decoder) throws {
        try decoder.rejectUnknownKeys(CodingKeys.allCases.map(\.rawValue))
        let c = try decoder.container(keyedBy: CodingKeys.self)
        name = try c.decode(String.self, forKey: .name)
        listen = try c.decode(HostPort.self, forKey: .listen)
        allowlistFile = try c.decodeIfPresent(String.self, forKey: .allowlistFile)
        probeSocket = try c.decodeIfPresent(String.self, forKey: .probeSocket)
    }
}

private struct RawHomeLimits: Decodable {
    var connectionsPerClient = 64
    var connections = 4096
    var clientWait = Seconds(5)
    var handshakeTimeout = Seconds(5)

    enum CodingKeys: String, CodingKey, CaseIterable { case connectionsPerClient, connections, clientWait, handshakeTimeout }

    init() {}

    init(from decoder: Decoder) throws {
        try decoder.rejectUnknownKeys(CodingKeys.allCases.map(\.rawValue))
        let c = try decoder.container(keyedBy: CodingKeys.self)
        connectionsPerClient = try c.decodeIfPresent(Int.self, forKey: .connectionsPerClient) ?? connectionsPerClient
        connections = try c.decodeIfPresent(Int.self, forKey: .connections) ?? connections
        clientWait = try c.decodeIfPresent(Seconds.self, forKey: .clientWait) ?? clientWait
        handshakeTimeout = try c.decodeIfPresent(Seconds.self, forKey: .handshakeTimeout) ?? handshakeTimeout
        guard connectionsPerClient >= 1, connections >= 1, connections <= 1_000_000 else {
            throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath, debugDescription: "connection limits must be 1 to 1000000"))
        }
    }
}

struct RawHeartbeat: Decodable {
    var interval = Seconds(5)
    var timeout = Seconds(15)

    enum CodingKeys: String, CodingKey, CaseIterable { case interval, timeout }

    init() {}

    init(from decoder: Decoder) throws {
        try decoder.rejectUnknownKeys(CodingKeys.allCases.map(\.rawValue))
        let c = try decoder.container(keyedBy: CodingKeys.self)
        interval = try c.decodeIfPresent(Seconds.self, forKey: .interval) ?? interval
        timeout = try c.decodeIfPresent(Seconds.self, forKey: .timeout) ?? timeout
    }
}
