import Foundation

/// How one end of a tunnel ended a run.
public enum TunnelEndResult: String, Sendable, Codable {
    /// Install: the program was not running and now is.
    case started
    /// Install: something changed (the list says what) and the program was restarted.
    case restarted
    /// Install: every file was already right and the program running: nothing was touched.
    case unchanged
    /// Install: refused before anything was written (a binary that cannot run there, an invalid config).
    case refused
    /// Uninstall: removed (the list says what).
    case removed
    /// Uninstall: nothing of the tunnel was on the host.
    case absent
    /// Not started because an earlier step of the tunnel failed (home, for its work hosts).
    case skipped
    case failed

    public var isSuccess: Bool { self == .started || self == .restarted || self == .unchanged || self == .removed || self == .absent }
}

/// One end's result, for the table, --json and the tests.
public struct TunnelEndReport: Sendable, Codable {
    public var tunnel: String
    public var host: String
    public var role: TunnelRole
    public var result: TunnelEndResult
    /// What was written or removed: binary, config, secret, allowlist, tls, supervisor, unit, process, state.
    public var changed: [String] = []
    /// The program's pid after the run (supervisor mode: the fwtunnel process; systemd: MainPID).
    public var pid: Int?
    /// `systemd` or `supervisor`.
    public var mode: String?
    public var reason: String?
    public var seconds: Double = 0

    public init(tunnel: String, host: String, role: TunnelRole, result: TunnelEndResult, reason: String? = nil) {
        self.tunnel = tunnel
        self.host = host
        self.role = role
        self.result = result
        self.reason = reason
    }
}

/// A tunnel's result: its ends, and whether it answered end to end afterwards.
public struct TunnelReport: Sendable, Codable {
    public var tunnel: String
    public var ends: [TunnelEndReport]
    /// Install: work agents home reports connected, of those installed.
    public var agentsConnected: Int?
    public var agentsExpected: Int?
    /// Install: idle authenticated data connections home holds (the pool is warm: TLS, handshake and the secret
    /// proven end to end).
    public var idleDataConnections: Int?
    /// Install: what one real client connection through home's probe socket got (answered: the service spoke
    /// first; connected: it stayed linked; closed; unreachable).
    public var probe: String?
    /// Install: true when every agent is connected, the pool is warm and the probe connection went through.
    public var verified: Bool?
    public var reason: String?

    public init(tunnel: String, ends: [TunnelEndReport]) {
        self.tunnel = tunnel
        self.ends = ends
    }

    public var isSuccess: Bool { ends.allSatisfy(\.result.isSuccess) && verified != false }
}
