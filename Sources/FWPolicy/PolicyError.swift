import FWBase
import FWInventory

/// A problem with a host's firewall policy, with where it was written and what to do about it.
public struct PolicyError: Error, Sendable, Hashable, CustomStringConvertible {
    public enum Kind: String, Sendable {
        /// The policy is malformed: a wrong type, an unknown key, a bad address or port, a name that resolves to
        /// nothing. The input must be fixed.
        case invalid
        /// The policy is well-formed but would lock the operators out of the host.
        case lockout
        /// A template failed on this host's data.
        case template
        /// The host's files could not be written.
        case output
        /// Not a failure: something the user should know about a host that compiles (a management source no
        /// operator can be at, ICMP rules ufw governs itself). Printed as a warning and kept in `--json`.
        case warning
    }

    public var kind: Kind
    public var host: String?
    /// The file and line where the offending value was set, when known.
    public var location: FileLocation?
    /// The path of the value inside the vars, e.g. `firewall.allow[2].ports[0]`.
    public var path: String?
    /// The group or host whose vars hold the value, e.g. `group 'db'`.
    public var scope: String?
    public var message: String
    public var hint: String?

    public init(_ kind: Kind = .invalid, host: String? = nil, location: FileLocation? = nil, path: String? = nil,
                scope: String? = nil, message: String, hint: String? = nil) {
        self.kind = kind
        self.host = host
        self.location = location
        self.path = path
        self.scope = scope
        self.message = message
        self.hint = hint
    }

    public var description: String { describe(hosts: host.map { [$0] } ?? []) }

    /// The message for one or several hosts that share the same problem (a group's vars are every member's), on
    /// one line: the path, scope, message and hint quote inventory values, so the text is escaped for display.
    public func describe(hosts: [String]) -> String {
        var text = ""
        if let location { text += "\(location): " }
        if let path { text += "\(path)" + (scope.map { " (\($0))" } ?? "") + ": " }
        text += message
        if let hint { text += "; \(hint)" }
        text = DisplayEscaping.escaped(text)
        let names = hosts.map(Self.printable)
        switch names.count {
        case 0: break
        case 1: text += " [host \(names[0])]"
        case 2...5: text += " [hosts \(names.joined(separator: ", "))]"
        default: text += " [\(names.count) hosts: \(names.prefix(3).joined(separator: ", ")), ...]"
        }
        return text
    }

    /// A name as it can be shown on one terminal line: quoted and escaped when it holds anything unusual.
    static func printable(_ name: String) -> String { DisplayEscaping.quotedName(name) }

    /// The problem without the host: the same for every host it is reported for.
    public var withoutHost: PolicyError {
        var copy = self
        copy.host = nil
        return copy
    }
}

/// All the policy problems found in one run, so a user fixes them in one pass rather than one per run.
public struct PolicyErrors: Error, Sendable, CustomStringConvertible {
    public var errors: [PolicyError]

    public init(_ errors: [PolicyError]) { self.errors = errors }

    /// True when some problem is in the input (policy or templates), as opposed to a failed check or a failed
    /// write: the two get different exit statuses.
    public var includesInvalidInput: Bool { errors.contains { $0.kind == .invalid || $0.kind == .template } }

    public var description: String {
        grouped().map { $0.error.describe(hosts: $0.hosts) }.joined(separator: "\n")
    }

    /// The problems with those shared by several hosts (one group's vars) merged into one, in first-seen order.
    public func grouped() -> [(error: PolicyError, hosts: [String])] {
        var order: [PolicyError] = []
        var hosts: [PolicyError: [String]] = [:]
        for error in errors {
            let key = error.withoutHost
            if hosts[key] == nil { order.append(key) }
            hosts[key, default: []] += error.host.map { [$0] } ?? []
        }
        return order.map { ($0, hosts[$0]!) }
    }
}
