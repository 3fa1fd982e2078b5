import Foundation

/// One end's status document (Sources/FWTunnel/CONFIG.md, "Status sockets"): kept whole for `--json`, with the
/// figures `fwctl tunnel status` shows and `install` checks read out of it.
public struct TunnelStatus: Sendable {
    /// The document as the process answered it.
    public let json: Data
    public let role: String
    public let pid: Int?
    public let uptimeSeconds: Double?
    /// home: the agents it has a command connection from; work: its own name when connected to home.
    public let connectedAgents: [String]
    /// home: idle data connections of all agents; work: its pool's idle connections.
    public let idleDataConnections: Int
    /// home: client connections now; work: sessions in progress.
    public let active: Int
    /// home: clients accepted and refused by the allowlist; work: sessions served.
    public let accepted: Int
    public let refused: Int
    /// Failures worth a look: home's failed agent authentications and handshake failures; work's command
    /// connection failures and refused authentications.
    public let failures: Int
    /// The last error the process reports (home: the allowlist's last reload error), if any.
    public let lastError: String?

    public init(json: Data) throws {
        guard let document = try? JSONSerialization.jsonObject(with: json) as? [String: Any], let role = document["role"] as? String else {
            throw TunnelDeployError("the status socket answered something that is not a status document")
        }
        func int(_ value: Any?) -> Int { (value as? NSNumber)?.intValue ?? 0 }
        self.json = json
        self.role = role
        pid = (document["pid"] as? NSNumber)?.intValue
        uptimeSeconds = (document["uptimeSeconds"] as? NSNumber)?.doubleValue
        if role == "home" {
            let agents = document["agents"] as? [String: [String: Any]] ?? [:]
            connectedAgents = agents.filter { ($0.value["connected"] as? Bool) == true }.map(\.key).sorted()
            idleDataConnections = agents.values.reduce(0) { $0 + int($1["idleDataConnections"]) }
            active = int(document["connections"])
            let services = (document["services"] as? [String: [String: Any]] ?? [:]).values
            accepted = services.reduce(0) { $0 + int($1["accepted"]) }
            refused = services.reduce(0) { $0 + int($1["refusedAllowlist"]) }
            failures = int(document["failedAuth"]) + int(document["handshakeFailures"])
            lastError = (document["allowlist"] as? [String: Any])?["lastReloadError"] as? String
        } else {
            let name = document["name"] as? String ?? "?"
            connectedAgents = (document["connected"] as? Bool) == true ? [name] : []
            idleDataConnections = int((document["pool"] as? [String: Any])?["idle"])
            let services = (document["services"] as? [String: [String: Any]] ?? [:]).values
            active = services.reduce(0) { $0 + int($1["active"]) }
            accepted = services.reduce(0) { $0 + int($1["sessions"]) }
            refused = services.reduce(0) { $0 + int($1["connectFailures"]) }
            failures = int(document["commandFailures"]) + int(document["authRefused"])
            lastError = nil
        }
    }
}

/// One end's row of `fwctl tunnel status`: its status, or why it could not be read (not running, unreachable).
public struct TunnelEndStatus: Sendable {
    public var tunnel: String
    public var host: String
    public var role: TunnelRole
    public var status: TunnelStatus?
    public var error: String?
}
