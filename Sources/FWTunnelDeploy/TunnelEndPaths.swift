import FWPolicy

/// Which end of a tunnel a host runs.
public enum TunnelRole: String, Sendable, Codable, CaseIterable {
    case home, work

    /// The executable of this end, as built by this package.
    public var program: String { "fwtunnel-\(rawValue)" }
}

/// Where one end of one tunnel lives on its host. Everything is per tunnel (a host may be home of one tunnel and work
/// of another) except the binary, shared by the tunnels of one role. All of these are private per host in a lab
/// (/etc, /var and /usr/local are overlays of each lab host's own). The status socket and pid files are in the
/// state folder rather than /run: /run is the machine's own in a lab host, so two lab hosts would share it.
public struct TunnelEndPaths: Sendable, Hashable {
    public let tunnel: String
    public let role: TunnelRole

    public init(tunnel: String, role: TunnelRole) {
        self.tunnel = tunnel
        self.role = role
    }

    public static let etcRoot = "/etc/fwtunnel"
    public static let stateRoot = "/var/lib/fwtunnel"
    public static let binaryFolder = "/usr/local/bin"

    public var etc: String { "\(Self.etcRoot)/\(tunnel)" }
    public var state: String { "\(Self.stateRoot)/\(tunnel)" }
    public var binary: String { "\(Self.binaryFolder)/\(role.program)" }
    public var config: String { "\(etc)/\(role.rawValue).json" }
    public var secret: String { "\(etc)/secret" }
    public var allowlist: String { "\(etc)/allowlist" }
    public var key: String { "\(etc)/home.key" }
    public var certificate: String { "\(etc)/home.crt" }
    public var statusSocket: String { "\(state)/\(role.rawValue).sock" }
    /// home's probe socket (a client that skips the allowlist, root only): how install checks the whole path.
    public var probeSocket: String { "\(state)/probe.sock" }
    public var supervisor: String { "\(state)/supervise-\(role.rawValue).sh" }
    public var unitName: String { "fwtunnel-\(tunnel)-\(role.rawValue).service" }
    public var unit: String { "/etc/systemd/system/\(unitName)" }
}
