/// A host a connection goes through on its way (OpenSSH's ProxyJump), resolved against the inventory.
public struct JumpHost: Sendable, Hashable {
    /// How the jump host itself is reached: for an inventory host its own ansible_host, port, user and key (with
    /// the user and port written in the ProxyJump value first); else the address as written. Its own jump hosts
    /// are the hops before it in the chain, so `connection.jumpHosts` is empty. A user of nil is the local user,
    /// as with ssh (not the inner host's ansible_user).
    public var connection: Connection
    /// Whether `name` is an inventory host (rather than an address or DNS name as written).
    public var isInventoryHost: Bool

    public init(name: String, isInventoryHost: Bool, address: String, port: Int? = nil, user: String? = nil,
                privateKeyFile: String? = nil) {
        connection = Connection(name: name, address: address, port: port, user: user, privateKeyFile: privateKeyFile)
        self.isInventoryHost = isInventoryHost
    }

    /// The inventory host name, or the address as written.
    public var name: String { connection.name }
}

extension Inventory {
    /// The longest chain of jump hosts fwctl follows (a jump host may name its own jump hosts).
    static let maxJumpChain = 4

    /// The settings of `vars` beyond address, port, user and key: jump hosts from the ssh arguments, become, and
    /// warnings about ssh arguments fwctl cannot honour. Called by `connection(from:)`.
    func addReach(to connection: inout Connection, from vars: HostVars) throws {
        var visited: Set<String> = [vars.host]
        let (jumps, warnings) = try jumpChain(of: vars, visited: &visited)
        connection.jumpHosts = jumps
        connection.warnings = warnings.map { "host '\(vars.host)': \($0)" }
        connection.become = try become(from: vars)
    }

    /// The hops of a host's ssh arguments, each resolved: an inventory host brings its own address, port, user,
    /// key and (before it) its own jump hosts.
    private func jumpChain(of vars: HostVars, visited: inout Set<String>) throws -> (jumps: [JumpHost], warnings: [String]) {
        var arguments = SSHArguments()
        for key in ["ansible_ssh_common_args", "ansible_ssh_extra_args"] {
            guard let value = vars[key] else { continue }
            guard let text = value.stringValue else {
                if value.isNull { continue }
                throw InventoryError("\(key) of host '\(vars.host)' must be a string of ssh arguments, not \(value.kindDescription)",
                                     at: vars.location(of: key))
            }
            do {
                let words = try ShellWords.splitFully(Substring(text))
                try arguments.parse(words, variable: key)
            } catch let error as SSHArgumentError {
                throw InventoryError("\(key) of host '\(vars.host)': \(error.message)", at: vars.location(of: key))
            } catch {
                throw InventoryError("\(key) of host '\(vars.host)' cannot be split like a shell would: \(error)", at: vars.location(of: key))
            }
        }
        var chain: [JumpHost] = []
        for hop in arguments.jumps ?? [] {
            guard let jumpVars = self.vars(of: hop.host) else {
                chain.append(JumpHost(name: hop.host, isInventoryHost: false, address: hop.host, port: hop.port, user: hop.user,
                                      privateKeyFile: hop.identityFile))
                continue
            }
            guard !visited.contains(hop.host) else {
                throw InventoryError("host '\(vars.host)' would reach jump host '\(hop.host)' through itself (a loop of ProxyJump settings)",
                                     at: vars.location(of: "ansible_ssh_common_args") ?? vars.location(of: "ansible_ssh_extra_args"))
            }
            visited.insert(hop.host)
            let own = try directConnection(from: jumpVars)
            // The jump host's own jump hosts come first (its warnings are reported for it, as a host of its own).
            chain += try jumpChain(of: jumpVars, visited: &visited).jumps
            chain.append(JumpHost(name: hop.host, isInventoryHost: true, address: own.address, port: hop.port ?? own.port,
                                  user: hop.user ?? own.user, privateKeyFile: hop.identityFile ?? own.privateKeyFile))
        }
        guard chain.count <= Self.maxJumpChain else {
            throw InventoryError("host '\(vars.host)' goes through \(chain.count) jump hosts (\(chain.map(\.name).joined(separator: ", "))); fwctl follows at most \(Self.maxJumpChain)",
                                 at: vars.location(of: "ansible_ssh_common_args") ?? vars.location(of: "ansible_ssh_extra_args"))
        }
        return (chain, arguments.warnings)
    }
}
