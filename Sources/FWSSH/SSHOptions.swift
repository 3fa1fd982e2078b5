import Foundation
import Logging

/// How to connect: host key policy, timeouts, where credentials come from. The same value serves every host.
public struct SSHOptions: Sendable {
    /// The OpenSSH known_hosts file to verify against (and to append to with `acceptNewHostKeys`).
    public var knownHostsFile: String
    /// Like OpenSSH's `StrictHostKeyChecking=accept-new`: record keys of hosts not in known_hosts. A changed key
    /// is refused all the same.
    public var acceptNewHostKeys = false
    /// The TCP connect, and again the SSH handshake after it, each within the host's deadline. Name resolution
    /// (getaddrinfo) has no timeout of its own.
    public var connectTimeout: Duration = .seconds(10)
    /// Everything done with one host, from connect to close (the default deadline of a session).
    public var hostTimeout: Duration = .seconds(300)
    /// One `exec` or `upload`, unless the call passes its own.
    public var commandTimeout: Duration = .seconds(120)
    /// Try ssh-agent identities (`SSH_AUTH_SOCK` in `environment`) before key files.
    public var useAgent = true
    /// Key files tried after the target's own: `~/.ssh/id_ed25519`, `id_ecdsa`, `id_rsa`.
    public var defaultIdentityFiles: [String]
    /// Where passphrases for encrypted keys come from.
    public var passphrases: PassphraseSource
    /// Where `SSH_AUTH_SOCK` and `HOME` are read (the process environment by default; tests pass their own).
    public var environment: [String: String]
    /// The most a command may write on stdout, and separately on stderr, before `exec` gives up on it.
    public var maxOutputBytes = 256 << 20
    /// The most connections to inner hosts one session to a jump host carries at once; more open another session.
    public var channelsPerJump = 64
    /// Where the sudo password comes from when a host's `become` has none and sudo asks for one.
    public var becomePasswords: BecomePasswordSource
    public var logger: Logger

    public init(environment: [String: String] = ProcessInfo.processInfo.environment,
                logger: Logger = Logger(label: "fwssh", factory: { _ in SwiftLogNoOpLogHandler() })) {
        let home = environment["HOME"].flatMap { $0.isEmpty ? nil : $0 } ?? NSHomeDirectory()
        self.environment = environment
        self.logger = logger
        knownHostsFile = home + "/.ssh/known_hosts"
        defaultIdentityFiles = ["id_ed25519", "id_ecdsa", "id_rsa"].map { home + "/.ssh/" + $0 }
        passphrases = .environmentOrTerminal(environment)
        becomePasswords = .environmentOrTerminal(environment)
    }

    /// `~/x` resolved against this environment's HOME.
    public func expandingTilde(_ path: String) -> String {
        guard path == "~" || path.hasPrefix("~/") else { return path }
        let home = environment["HOME"].flatMap { $0.isEmpty ? nil : $0 } ?? NSHomeDirectory()
        return home + path.dropFirst()
    }
}
