#if canImport(Glibc)
import Glibc
#endif

/// One host to connect to: plain values, so callers (inventory, deploy) need nothing from libssh2.
public struct SSHTarget: Sendable, Hashable, CustomStringConvertible {
    /// The name shown in results and messages (the inventory host name).
    public var name: String
    /// What to connect to: an IPv4 or IPv6 literal (brackets allowed) or a DNS name. Also the name looked up in
    /// known_hosts, as OpenSSH does with `HostName`.
    public var address: String
    public var port: Int
    public var user: String
    /// Private key files to try after the agent and before the default ones (`ansible_ssh_private_key_file`).
    public var identityFiles: [String]
    /// The jump hosts to go through, in order (OpenSSH's `ProxyJump a,b`): the first is connected to directly, each
    /// next one through a `direct-tcpip` channel of the one before, and this host through the last. Empty: direct.
    public var jumps: [SSHTarget]
    /// How commands that need root run (`SSHSession.run(_:asRoot:)`); nil: as the login user, which must be root.
    public var become: Become?

    public init(name: String, address: String? = nil, port: Int = 22, user: String? = nil, identityFiles: [String] = [],
                jumps: [SSHTarget] = [], become: Become? = nil) {
        self.name = name
        var host = address ?? name
        if host.hasPrefix("["), host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
        self.address = host
        self.port = port
        self.user = user ?? SSHTarget.localUserName
        self.identityFiles = identityFiles
        self.jumps = jumps
        self.become = become
    }

    public var description: String {
        let direct = name == address ? endpoint : "\(name) (\(endpoint))"
        return jumps.isEmpty ? direct : direct + " via " + jumps.map(\.name).joined(separator: ", ")
    }

    /// `user@host:port`, IPv6 in brackets.
    public var endpoint: String {
        let host = address.contains(":") ? "[\(address)]" : address
        return "\(user)@\(host):\(port)"
    }

    /// The name of the user running fwctl: OpenSSH's and Ansible's default remote user.
    public static var localUserName: String {
        if let pw = getpwuid(geteuid()), let name = pw.pointee.pw_name { return String(cString: name) }
        return "root"
    }

    /// The host name as OpenSSH writes it in known_hosts: lower case, `[host]:port` unless the port is 22.
    public var knownHostsName: String {
        let host = address.lowercased()
        return port == 22 ? host : "[\(host)]:\(port)"
    }
}
