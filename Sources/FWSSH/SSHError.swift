/// Every failure FWSSH reports: which step of talking to which host failed, and a message a person can act on.
public struct SSHError: Error, CustomStringConvertible, Sendable, Equatable {
    public enum Step: String, Sendable {
        case connect, handshake, hostKey, auth, exec, upload, timeout
        /// sudo refused us, needs a password we do not have, or is missing.
        case become

        /// How the step reads at the start of a message.
        public var label: String {
            switch self {
            case .connect: return "cannot connect"
            case .handshake: return "SSH handshake failed"
            case .hostKey: return "host key refused"
            case .auth: return "authentication refused"
            case .exec: return "command failed"
            case .upload: return "upload failed"
            case .timeout: return "timed out"
            case .become: return "sudo failed"
            }
        }
    }

    /// Why a host key was refused (for `step == .hostKey`).
    public enum HostKeyProblem: String, Sendable {
        /// No entry for this host: verify the fingerprint, then add the line or use accept-new.
        case unknown
        /// An entry of the same type holds a different key: possible interception; never accepted automatically.
        case changed
        /// The offered key is marked `@revoked` in known_hosts.
        case revoked
        /// known_hosts has keys of other types for this host but not the type the server offered.
        case otherTypeKnown
    }

    public var step: Step
    /// The target's name.
    public var host: String
    public var message: String
    /// For `.timeout`: the step that was running when the deadline passed.
    public var during: Step?
    /// For `.hostKey`: what was wrong with the key.
    public var hostKeyProblem: HostKeyProblem?
    /// The jump host whose failure this is, when the host itself was never reached (its jump host was down,
    /// refused us, or could not open a channel to it).
    public var via: String?

    public init(_ step: Step, host: String, _ message: String, during: Step? = nil, hostKeyProblem: HostKeyProblem? = nil,
                via: String? = nil) {
        self.via = via
        self.step = step
        self.host = host
        self.message = message
        self.during = during
        self.hostKeyProblem = hostKeyProblem
    }

    public var description: String {
        if step == .timeout, let during { return "\(host): timed out (\(during.rawValue)): \(message)" }
        return "\(host): \(step.label): \(message)"
    }

    /// A short reason for tables: "unreachable", "host key unknown", "auth refused", "timeout", ...
    public var reason: String {
        if let via { return "via \(via): \(ownReason)" }
        return ownReason
    }

    private var ownReason: String {
        switch step {
        case .connect: return "unreachable"
        case .handshake: return "handshake failed"
        case .hostKey:
            switch hostKeyProblem {
            case .unknown?: return "host key unknown"
            case .changed?: return "host key changed"
            case .revoked?: return "host key revoked"
            case .otherTypeKnown?: return "host key type unknown"
            case nil: return "host key refused"
            }
        case .auth: return "auth refused"
        case .exec: return "command failed"
        case .upload: return "upload failed"
        case .timeout: return "timeout"
        case .become: return "sudo refused"
        }
    }

    /// This error of jump host `jump`, as the failure of `host` behind it.
    func behind(jump: String, host: String) -> SSHError {
        var error = self
        error.host = host
        error.via = error.via ?? jump
        error.message = "through jump host \(self.description)"
        return error
    }
}
