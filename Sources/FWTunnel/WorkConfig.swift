import FWBase
import FoundationEssentials

/// fwtunnel-work's config file (JSON; CONFIG.md documents every key and default).
public struct WorkConfig: Sendable {
    public struct Service: Sendable {
        public var name: String
        /// The service work connects to for each client, as work sees it.
        public var target: HostPort
        /// Send a PROXY protocol v2 header with the real client address first.
        public var proxyProtocol: Bool
    }

    public var path: String
    /// This agent's name, unique among the agents of one home.
    public var name: String
    public var home: HostPort
    /// home's certificate fingerprint (SHA-256 of the DER); nil: `"tls": false`.
    public var pinnedFingerprint: [UInt8]?
    public var secretFile: String
    public var statusSocket: String?
    public var services: [Service]
    public var poolMinimum: Int
    public var poolMaximum: Int
    public var reconnectInitial: Double
    public var reconnectMaximum: Double
    public var heartbeatInterval: Double
    public var heartbeatTimeout: Double
    public var connectTimeout: Double
    /// Relay linked clear connections in the kernel (splice); false keeps every byte on NIO's user-space relay.
    public var splice: Bool

    public static func load(path: String) throws -> WorkConfig {
        let raw = try ConfigFile.decode(RawWorkConfig.self, path: path)
        func fail(_ message: String) -> ConfigError { ConfigError(file: path, message) }
        guard raw.version == 1 else { throw fail("version \(raw.version) is not supported (this fwtunnel-work reads version 1)") }
        guard TunnelName.isValid(raw.name) else { throw fail("name \(DisplayEscaping.escaped(raw.name)) must be 1-64 of A-Z a-z 0-9 . _ -") }
        guard !raw.services.isEmpty, raw.services.count <= 64 else { throw fail("services must list 1 to 64 services") }
        var seen = Set<String>()
        for service in raw.services {
            guard TunnelName.isValid(service.name) else {
                throw fail("service name \(DisplayEscaping.escaped(service.name)) must be 1-64 of A-Z a-z 0-9 . _ -")
            }
            guard seen.insert(service.name).inserted else { throw fail("service \(service.name) is listed twice") }
        }
        var fingerprint: [UInt8]?
        switch raw.tls {
        case .disabled: fingerprint = nil
        case .pinned(let text):
            guard let bytes = Fingerprint.parse(text) else {
                throw fail("tls.fingerprint must be the SHA-256 of home's certificate as 64 hex digits (colons allowed), e.g. from: fwtunnel-home --fingerprint CERT")
            }
            fingerprint = bytes
        }
        let pool = raw.pool ?? RawPool()
        guard pool.min >= 0, pool.max >= pool.min, pool.max <= 1024 else { throw fail("pool needs 0 <= min <= max <= 1024") }
        let reconnect = raw.reconnect ?? RawReconnect()
        guard reconnect.maximum.value >= reconnect.initial.value else { throw fail("reconnect.maximum must be at least reconnect.initial") }
        let heartbeat = raw.heartbeat ?? RawHeartbeat()
        guard heartbeat.timeout.value > heartbeat.interval.value else { throw fail("heartbeat.timeout must be longer than heartbeat.interval") }
        return WorkConfig(
            path: path, name: raw.name, home: raw.home, pinnedFingerprint: fingerprint, secretFile: raw.secretFile,
            statusSocket: raw.statusSocket,
            services: raw.services.map { Service(name: $0.name, target: $0.target, proxyProtocol: $0.proxyProtocol) },
            poolMinimum: pool.min, poolMaximum: pool.max,
            reconnectInitial: reconnect.initial.value, reconnectMaximum: reconnect.maximum.value,
            heartbeatInterval: heartbeat.interval.value, heartbeatTimeout: heartbeat.timeout.value,
            connectTimeout: (raw.connectTimeout ?? Seconds(10)).value, splice: raw.splice ?? true)
    }
}

private struct RawWorkConfig: Decodable {
    var version: Int
    var name: String
    var home: HostPort
    var tls: RawPin
    var secretFile: String
    var statusSocket: String?
    var services: [RawWorkService]
    var pool: RawPool?
    var reconnect: RawReconnect?
    var heartbeat: RawHeartbeat?
    var connectTimeout: Seconds?
    var splice: Bool?

    enum CodingKeys: String, CodingKey, CaseIterable {
        case version, name, home, tls, secretFile, statusSocket, services, pool, reconnect, heartbeat, connectTimeout, splice
    }

    init(from decoder: Decoder) throws {
        try decoder.rejectUnknownKeys(CodingKeys.allCases.map(\.rawValue))
        let c = try decoder.container(keyedBy: CodingKeys.self)
        version = try c.decode(Int.self, forKey: .version)
        name = try c.decode(String.self, forKey: .name)
        home = try c.decode(HostPort.self, forKey: .home)
        tls = try c.decode(RawPin.self, forKey: .tls)
        secretFile = try c.decode(String.self, forKey: .secretFile)
        statusSocket = try c.decodeIfPresent(String.self, forKey: .statusSocket)
        services = try c.decode([RawWorkService].self, forKey: .services)
        pool = try c.decodeIfPresent(RawPool.self, forKey: .pool)
        reconnect = try c.decodeIfPresent(RawReconnect.self, forKey: .reconnect)
        heartbeat = try c.decodeIfPresent(RawHeartbeat.self, forKey: .heartbeat)
        connectTimeout = try c.decodeIfPresent(Seconds.self, forKey: .connectTimeout)
        splice = try c.decodeIfPresent(Bool.self, forKey: .splice)
    }
}

/// `"tls": false`, or `"tls": {"fingerprint": "sha256 hex"}`.
private enum RawPin: Decodable {
    case disabled
    case pinned(String)

    enum CodingKeys: String, CodingKey, CaseIterable { case fingerprint }

    init(from decoder: Decoder) throws {
        if let flag = try? decoder.singleValueContainer().decode(Bool.self) {
            guard !flag else {
                throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath,
                    debugDescription: "tls is false or an object with home's certificate fingerprint"))
            }
            self = .disabled
            return
        }
        try decoder.rejectUnknownKeys(CodingKeys.allCases.map(\.rawValue))
        self = .pinned(try decoder.container(keyedBy: CodingKeys.self).decode(String.self, forKey: .fingerprint))
    }
}

private struct RawWorkService: Decodable {
    var name: String
    var target: HostPort
    var proxyProtocol: Bool

    enum CodingKeys: String, CodingKey, CaseIterable { case name, target, proxyProtocol }

    init(from decoder: Decoder) throws {
        try decoder.rejectUnknownKeys(CodingKeys.allCases.map(\.rawValue))
        let c = try decoder.container(keyedBy: CodingKeys.self)
        name = try c.decode(String.self, forKey: .name)
        target = try c.decode(HostPort.self, forKey: .target)
        proxyProtocol = try c.decodeIfPresent(Bool.self, forKey: .proxyProtocol) ?? false
    }
}

private struct RawPool: Decodable {
    var min = 2
    var max = 16

    enum CodingKeys: String, CodingKey, CaseIterable { case min, max }

    init() {}

    init(from decoder: Decoder) throws {
        try decoder.rejectUnknownKeys(CodingKeys.allCases.map(\.rawValue))
        let c = try decoder.container(keyedBy: CodingKeys.self)
        min = try c.decodeIfPresent(Int.self, forKey: .min) ?? min
        max = try c.decodeIfPresent(Int.self, forKey: .max) ?? max
    }
}

private struct RawReconnect: Decodable {
    var initial = Seconds(0.25)
    var maximum = Seconds(30)

    enum CodingKeys: String, CodingKey, CaseIterable { case initial, maximum }

    init() {}

    init(from decoder: Decoder) throws {
        try decoder.rejectUnknownKeys(CodingKeys.allCases.map(\.rawValue))
        let c = try decoder.container(keyedBy: CodingKeys.self)
        initial = try c.decodeIfPresent(Seconds.self, forKey: .initial) ?? initial
        maximum = try c.decodeIfPresent(Seconds.self, forKey: .maximum) ?? maximum
    }
}

/// SHA-256 certificate fingerprints as written in configs: 64 hex digits, colons optional, "sha256:" prefix optional.
public enum Fingerprint {
    public static func parse(_ text: String) -> [UInt8]? {
        var hex = text.lowercased()
        if hex.hasPrefix("sha256:") { hex.removeFirst(7) }
        hex.removeAll { $0 == ":" }
        guard hex.count == 64 else { return nil }
        var bytes: [UInt8] = []
        var index = hex.startIndex
        while index < hex.endIndex {
            let next = hex.index(index, offsetBy: 2)
            guard let byte = UInt8(hex[index..<next], radix: 16) else { return nil }
            bytes.append(byte)
            index = next
        }
        return bytes
    }

    public static func format(_ bytes: [UInt8]) -> String {
        bytes.map { String($0, radix: 16).count == 1 ? "0" + String($0, radix: 16) : String($0, radix: 16) }.joined(separator: ":")
    }
}
