/// How to reach a host over SSH, from its merged vars, resolved exactly as Ansible's ssh connection plugin
/// resolves them: the one source of the address, port and user for ping, deploy and the policy's anti-lockout
/// check.
///
/// Each setting has a list of variables, lowest precedence first; the last one set wins (Ansible's
/// `ConfigManager._loop_entries`): `ansible_ssh_host` over `ansible_host` (else the inventory name),
/// `ansible_ssh_port` over `ansible_port`, `ansible_ssh_user` over `ansible_user`, `ansible_ssh_private_key_file`
/// over `ansible_private_key_file`. Ansible silently takes the winner when two of a setting's variables differ;
/// here that is an error naming both places, because the firewall must be checked against the address that is
/// really used and a user who sets both rarely knows which one that is.
public struct Connection: Sendable, Hashable {
    /// The inventory name.
    public var name: String
    /// `ansible_ssh_host`/`ansible_host`, or the inventory name when neither is set. Not resolved or validated as
    /// an address here.
    public var address: String
    /// `ansible_ssh_port`/`ansible_port`; nil means SSH's default (22).
    public var port: Int?
    /// `ansible_ssh_user`/`ansible_user`.
    public var user: String?
    /// `ansible_ssh_private_key_file`/`ansible_private_key_file`.
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

    /// The variables of each setting, lowest precedence first, as in the ssh connection plugin's documentation.
    public static let addressVariables = ["ansible_host", "ansible_ssh_host"]
    public static let portVariables = ["ansible_port", "ansible_ssh_port"]
    public static let userVariables = ["ansible_user", "ansible_ssh_user"]
    public static let privateKeyVariables = ["ansible_private_key_file", "ansible_ssh_private_key_file"]

    /// The variable the setting's value comes from (the last of `variables` set in `vars`), or nil when none is.
    public static func winningVariable(_ variables: [String], in vars: HostVars) -> String? {
        variables.last { vars[$0] != nil }
    }

    /// The variable the address comes from (`ansible_ssh_host` or `ansible_host`), nil for the inventory name.
    public static func addressVariable(in vars: HostVars) -> String? { winningVariable(addressVariables, in: vars) }
}

extension Inventory {
    /// The connection settings of a host, checked: each set value must have a usable type (a port is an
    /// integer 1-65535 or a string of digits, names are non-empty strings), and the variables of one setting must
    /// agree. Errors name the file and line.
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
        func text(_ key: String, allowsNumber: Bool) throws -> String {
            let value = vars[key]!
            switch value {
            case .string(let s) where !s.isEmpty && !s.contains(where: { $0.isNewline || $0 == "\0" }),
                 .unsafe(let s) where !s.isEmpty && !s.contains(where: { $0.isNewline || $0 == "\0" }): return s
            case .int(let i) where allowsNumber: return String(i)
            default:
                throw InventoryError(
                    "\(key) of host '\(host)' must be a non-empty string on one line, not \(value.kindDescription) (\(value))",
                    at: vars.location(of: key))
            }
        }
        func port(_ key: String) throws -> Int {
            let value = vars[key]!
            let port: Int?
            switch value {
            case .int(let i): port = i
            case .string(let s), .unsafe(let s): port = s.utf8.allSatisfy { $0 >= 0x30 && $0 <= 0x39 } ? Int(s) : nil
            default: port = nil
            }
            guard let port, (1...65535).contains(port) else {
                throw InventoryError(
                    "\(key) of host '\(host)' must be a port number from 1 to 65535, not \(value)", at: vars.location(of: key))
            }
            return port
        }
        /// The winner's value, after checking that every other variable of the setting that is set agrees with it.
        func setting<T: Equatable>(_ variables: [String], _ read: (String) throws -> T) throws -> T? {
            let set = variables.filter { vars[$0] != nil }
            guard let winner = set.last else { return nil }
            let value = try read(winner)
            for other in set.dropLast() where try read(other) != value {
                let where_ = { (key: String) in vars.location(of: key).map { " (\($0))" } ?? "" }
                throw InventoryError(
                    "host '\(host)' sets \(other) = \(vars[other]!)\(where_(other)) and \(winner) = \(vars[winner]!)\(where_(winner)): "
                        + "Ansible connects with \(winner), and fwctl will not guess which one you meant",
                    at: vars.location(of: winner), hint: "remove one of them, or give both the same value")
            }
            return value
        }
        return Connection(
            name: host,
            address: try setting(Connection.addressVariables) { try text($0, allowsNumber: true) } ?? host,
            port: try setting(Connection.portVariables, port),
            user: try setting(Connection.userVariables) { try text($0, allowsNumber: true) },
            privateKeyFile: try setting(Connection.privateKeyVariables) { try text($0, allowsNumber: false) })
    }
}
