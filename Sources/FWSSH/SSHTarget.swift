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

    public init(name: String, address: String? = nil, port: Int = 22, user: String? = nil, identityFiles: [String] = []) {
        self.name = name
        var host = address ?? name
        if host.hasPrefix("["), host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
        self.address = host
        self.port = port
        self.user = user ?? SSHTarget.localUserName
        self.identityFiles = identityFiles
    }

    public var description: String {
        let host = address.contains(":") ? "[\(address)]" : address
        return name == address ? "\(user)@\(host):\(port)" : "\(name) (\(user)@\(host):\(port))"
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
