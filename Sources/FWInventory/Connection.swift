/// How to reach a host over SSH, from its merged vars: `ansible_host` (else the inventory name), `ansible_port`,
/// `ansible_user`, `ansible_ssh_private_key_file`.
public struct Connection: Sendable, Hashable {
    /// The inventory name.
    public var name: String
    /// `ansible_host`, or the inventory name when it is not set. Not resolved or validated as an address here.
    public var address: String
    /// `ansible_port`; nil means SSH's default (22).
    public var port: Int?
    /// `ansible_user` (`ansible_ssh_user`, its older name, when that is the only one set).
    public var user: String?
    /// `ansible_ssh_private_key_file` (or `ansible_private_key_file`).
    public var privateKeyFile: String?
    /// The jump hosts to go through, in order (from ProxyJump/-J/ProxyCommand in `ansible_ssh_common_args` and
    /// `ansible_ssh_extra_args`; see JumpHosts.swift). Empty: connect directly.
    public var jumpHosts: [JumpHost] = []
    /// `ansible_become` and its settings (Become.swift); nil: commands run as the login user.
    public var become: BecomeSettings?
    /// What in the host's ssh arguments fwctl cannot honour, one message each naming the host and the option.
    public var warnings: [String] = []

    public init(name: String, address: String, port: Int? = nil, user: String? = nil, privateKeyFile: String? = nil) {
        self.name = name
        self.address = address
        self.port = port
        self.user = user
        self.privateKeyFile = privateKeyFile
    }

    /// The port to connect to.
    public var effectivePort: Int { port ?? 22 }
}

extension Inventory {
    /// The connection settings of a host, checked: each set value must have a usable type (a port is an
    /// integer 1-65535 or a string of digits, names are non-empty strings). Errors name the file and line.
    public func connection(of host: String) throws -> Connection {
        guard let vars = vars(of: host) else {
            throw InventoryError("no host named '\(host)'", hint: "`fwctl inventory --list` shows the hosts")
        }
        return try connection(from: vars)
    }

    /// The connection settings in vars the caller already holds (from `vars(of:)`), checked as `connection(of:)`
    /// checks them, without merging the host's vars a second time.
    public func connection(from vars: HostVars) throws -> Connection {
        var connection = try directConnection(from: vars)
        try addReach(to: &connection, from: vars)
        return connection
    }

    /// Address, port, user and key file only (no jump hosts or become).
    func directConnection(from vars: HostVars) throws -> Connection {
        let host = vars.host
        func text(_ key: String, _ fallbackKey: String? = nil) throws -> String? {
            let used = vars[key] != nil ? key : fallbackKey
            guard let used, let value = vars[used] else { return nil }
            switch value {
            case .string(let s) where !s.isEmpty && !s.contains(where: { $0.isNewline || $0 == "\0" }): return s
            case .int(let i) where key == "ansible_user" || key == "ansible_host": return String(i)
            default:
                throw InventoryError(
                    "\(used) of host '\(host)' must be a non-empty string on one line, not \(value.kindDescription) (\(value))",
                    at: vars.location(of: used))
            }
        }
        var port: Int?
        if let value = vars["ansible_port"] ?? vars["ansible_ssh_port"] {
            let key = vars["ansible_port"] != nil ? "ansible_port" : "ansible_ssh_port"
            switch value {
            case .int(let i): port = i
            case .string(let s): port = s.utf8.allSatisfy { $0 >= 0x30 && $0 <= 0x39 } ? Int(s) : nil
            default: port = nil
            }
            guard let p = port, (1...65535).contains(p) else {
                throw InventoryError(
                    "\(key) of host '\(host)' must be a port number from 1 to 65535, not \(value)", at: vars.location(of: key))
            }
        }
        return Connection(
            name: host,
            address: try text("ansible_host", "ansible_ssh_host") ?? host,
            port: port,
            user: try text("ansible_user", "ansible_ssh_user"),
            privateKeyFile: try text("ansible_ssh_private_key_file", "ansible_private_key_file"))
    }
}
