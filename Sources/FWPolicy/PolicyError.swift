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
    }

    public var kind: Kind
    public var host: String?
    /// The file and line where the offending value was set, when known.
    public var location: FileLocation?
    /// The path of the value inside the vars, e.g. `firewall.allow[2].ports[0]`.
    public var path: String?
    public var message: String
    public var hint: String?

    public init(_ kind: Kind = .invalid, host: String? = nil, location: FileLocation? = nil, path: String? = nil,
                message: String, hint: String? = nil) {
        self.kind = kind
        self.host = host
        self.location = location
        self.path = path
        self.message = message
        self.hint = hint
    }

    public var description: String {
        var text = ""
        if let location { text += "\(location): " }
        if let host { text += "host \(host): " }
        if let path { text += "\(path): " }
        text += message
        if let hint { text += " (\(hint))" }
        return text
    }
}

/// All the policy problems found in one run, so a user fixes them in one pass rather than one per run.
public struct PolicyErrors: Error, Sendable, CustomStringConvertible {
    public var errors: [PolicyError]

    public init(_ errors: [PolicyError]) { self.errors = errors }

    /// True when every problem is a lockout (the input is valid, but a check failed).
    public var onlyLockouts: Bool { errors.allSatisfy { $0.kind == .lockout } }

    public var description: String {
        errors.map(\.description).joined(separator: "\n")
    }
}
