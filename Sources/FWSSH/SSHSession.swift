import CLibSSH2
import Foundation
import Logging
#if canImport(Glibc)
import Glibc
#endif

/// An authenticated SSH connection to one host, on which commands run and files are uploaded.
///
/// The libssh2 session is non-blocking: every call that returns `LIBSSH2_ERROR_EAGAIN` waits in `waitSocket`, which
/// poll()s in the directions libssh2 asks for and throws a timeout once the deadline passes. Each call blocks the
/// calling thread until done, so sessions belong on their own threads (`HostRunner`), never on the Swift
/// concurrency pool. A session is used by one thread at a time and is not Sendable.
public final class SSHSession {
    public let target: SSHTarget
    public let options: SSHOptions
    /// Nothing done with this session outlives this deadline.
    public let deadline: Deadline
    /// The key the server proved it holds, verified against known_hosts.
    public private(set) var hostKey: PublicKey
    /// The numeric address the TCP connection went to.
    public let connectedAddress: String

    let raw: OpaquePointer
    let socket: Int32
    var log: Logger
    var sftp: OpaquePointer?
    var sftpUnavailableReason: String?
    /// Set once the transport itself has failed: later calls fail at once with this reason.
    var brokenReason: String?
    /// How sudo behaves on this host, learnt on first use (`Become.swift`).
    var learntBecomeMode: BecomeMode?
    /// The jump pool of a session connected through jumps without a caller's pool: closed with the session.
    private var ownedJumps: JumpPool?
    private var closed = false

    /// Connects, verifies the host key and authenticates, all before `deadline` (default: `options.hostTimeout`
    /// from now). Reuse the deadline of a first session for a second connection to the same host so both share one
    /// per-host budget.
    public static func connect(to target: SSHTarget, options: SSHOptions, deadline: Deadline? = nil,
                               jumps: JumpPool? = nil) throws -> SSHSession {
        let deadline = deadline ?? .after(options.hostTimeout)
        var log = options.logger
        log[metadataKey: "host"] = "\(target.name)"
        guard LibSSH2.ensureInitialised() else {
            throw SSHError(.handshake, host: target.name, "libssh2_init failed (libssh2 or its crypto library is broken)")
        }
        let started = ContinuousClock.now
        guard !target.jumps.isEmpty else {
            let fd = try TCPConnector.connect(host: target.address, port: target.port,
                                              deadline: deadline.capped(after: options.connectTimeout), targetName: target.name)
            var address = "?"
            var storage = sockaddr_storage()
            var length = socklen_t(MemoryLayout<sockaddr_storage>.size)
            withUnsafeMutablePointer(to: &storage) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                    if getpeername(fd, $0, &length) == 0 { address = TCPConnector.numericAddress($0, length) }
                }
            }
            log.debug("TCP connected to \(address) port \(target.port) in \((ContinuousClock.now - started).humanReadable)")
            return try establish(target, options: options, deadline: deadline, socket: fd, address: address, log: log, started: started)
        }
        // Through jump hosts: the transport is one end of a socketpair whose other end a jump hub pumps to and from
        // a direct-tcpip channel on the last jump host's session. Everything above the socket is as for a direct
        // connection, the host key check included: under this host's own name, as OpenSSH's ProxyJump does.
        let ownPool = jumps == nil ? JumpPool(options: options) : nil
        let pool = jumps ?? ownPool!
        do {
            let link = try pool.link(to: target, deadline: deadline)
            let via = target.jumps.last!.name
            log.debug("channel to \(target.address) port \(target.port) requested from jump host \(via)")
            do {
                let session = try establish(target, options: options, deadline: deadline, socket: link.socket,
                                            address: target.address, log: log, started: started)
                session.ownedJumps = ownPool
                return session
            } catch let error as SSHError {
                // The jump host refused or lost the channel: that, not the handshake error it caused, is the reason.
                if let failure = link.failure { throw failure }
                throw error
            }
        } catch {
            ownPool?.close()
            throw error
        }
    }

    /// Starts SSH on a connected socket (TCP, or a socketpair end pumped through a jump host), then verifies the
    /// host key and authenticates. The session owns the socket from here on, also when this throws.
    private static func establish(_ target: SSHTarget, options: SSHOptions, deadline: Deadline, socket fd: Int32,
                                  address: String, log: Logger, started: ContinuousClock.Instant) throws -> SSHSession {
        guard let raw = libssh2_session_init_ex(nil, nil, nil, nil) else {
            Glibc.close(fd)
            throw SSHError(.handshake, host: target.name, "libssh2 could not allocate a session (out of memory?)")
        }
        libssh2_session_set_blocking(raw, 0)
        let session = SSHSession(target: target, options: options, deadline: deadline, raw: raw, socket: fd, address: address, log: log)
        do {
            try session.handshakeAndVerify()
            try Authenticator(session: session).authenticate()
            log.debug("authenticated as \(target.user) after \((ContinuousClock.now - started).humanReadable)")
        } catch {
            session.close()
            throw error
        }
        return session
    }

    private init(target: SSHTarget, options: SSHOptions, deadline: Deadline, raw: OpaquePointer, socket: Int32, address: String, log: Logger) {
        self.target = target
        self.options = options
        self.deadline = deadline
        self.raw = raw
        self.socket = socket
        self.connectedAddress = address
        self.log = log
        self.hostKey = PublicKey(blob: [])
    }

    deinit { close() }

    var hostName: String { target.name }

    // MARK: Handshake and host key

    private func handshakeAndVerify() throws {
        let snapshot = KnownHostsStore.shared.snapshot(path: options.knownHostsFile, logger: log)
        let knownName = target.knownHostsName
        guard let verifier = HostKeyVerifier(session: raw, snapshot: snapshot, name: knownName, unreadable: { line in
            self.log.debug("known_hosts \(snapshot.path) line \(line) ignored: libssh2 could not parse it")
        }) else {
            throw SSHError(.hostKey, host: hostName, "libssh2 could not allocate its known-hosts table")
        }
        // Ask for a key type known_hosts already has for this host, so a host known by its ECDSA key is not
        // reported unknown just because it also offers Ed25519.
        let known = verifier.knownTypes()
        var order = known.map(\.type)
        order += HostKeyVerifier.preferredAlgorithms.filter { !order.contains($0) }
        _ = order.joined(separator: ",").withCString { libssh2_session_method_pref(raw, LIBSSH2_METHOD_HOSTKEY, $0) }

        // The connect timeout also bounds the handshake: a port that accepts TCP and never speaks SSH is as dead
        // as one that does not answer.
        let handshakeDeadline = deadline.capped(after: options.connectTimeout)
        let rc = try retry(.handshake, until: handshakeDeadline) { libssh2_session_handshake(raw, libssh2_socket_t(socket)) }
        if rc != 0 {
            let hint: String
            switch rc {
            case LIBSSH2_ERROR_BANNER_RECV, LIBSSH2_ERROR_SOCKET_DISCONNECT, LIBSSH2_ERROR_SOCKET_RECV:
                hint = "the server closed the connection before the SSH handshake finished: sshd at its MaxStartups limit, a TCP wrapper or firewall, or not an SSH server"
            case LIBSSH2_ERROR_KEX_FAILURE, LIBSSH2_ERROR_METHOD_NONE, LIBSSH2_ERROR_HOSTKEY_INIT:
                hint = "no key exchange, cipher or host key algorithm in common with libssh2 1.10 (it needs curve25519 or ecdh, aes-ctr, and an ed25519 or ecdsa host key)"
            default:
                hint = "is this an SSH server?"
            }
            throw SSHError(.handshake, host: hostName,
                           "with \(connectedAddress) port \(target.port): \(LibSSH2.describe(rc, raw)); \(hint)")
        }

        var length = 0
        var type: Int32 = 0
        guard let keyPointer = libssh2_session_hostkey(raw, &length, &type), length > 0 else {
            throw SSHError(.hostKey, host: hostName, "the server sent no host key")
        }
        let key = PublicKey(blob: Array(UnsafeRawBufferPointer(start: keyPointer, count: length)))
        hostKey = key
        try verify(key, verifier: verifier, snapshot: snapshot, knownTypes: known)
    }

    private func verify(_ key: PublicKey, verifier: HostKeyVerifier, snapshot: KnownHostsSnapshot,
                        knownTypes: [(type: String, line: Int?)]) throws {
        let file = snapshot.path
        let through = target.jumps.last.map { " (reached through jump host \($0.name))" } ?? ""
        let where_ = "\(target.address) port \(target.port)\(through)"
        let addLine = "\(verifier.name) \(key.type) \(key.base64)"
        if let revoked = snapshot.revoked.first(where: { $0.key == key }) {
            throw SSHError(.hostKey, host: hostName,
                           "the server at \(where_) offered \(key.type) \(key.fingerprint), which \(file) line \(revoked.number) marks @revoked; refusing to connect",
                           hostKeyProblem: .revoked)
        }
        switch verifier.check(key) {
        case .match(let line):
            log.debug("host key \(key.type) \(key.fingerprint) matches \(file) line \(line.map(String.init) ?? "?")")
            return
        case .mismatch(let expected, let line):
            let was = expected.map { "\($0.type) \($0.fingerprint)" } ?? "another key"
            throw SSHError(.hostKey, host: hostName, """
                HOST KEY CHANGED for \(where_): \(file) line \(line.map(String.init) ?? "?") expects \(was), \
                but the server offered \(key.type) \(key.fingerprint). Someone may be intercepting the connection \
                (man in the middle), or the host was reinstalled. Refused, also with --accept-new. If you have \
                verified the new key on the host, remove the old one with `ssh-keygen -f \(file) -R '\(verifier.name)'` \
                and connect again.
                """, hostKeyProblem: .changed)
        case .notFound:
            break
        }
        if !knownTypes.isEmpty {
            let list = knownTypes.map { "\($0.type) (line \($0.line.map(String.init) ?? "?"))" }.joined(separator: ", ")
            let rsaOnly = knownTypes.allSatisfy { $0.type == "ssh-rsa" }
                ? " libssh2 1.10 can check an ssh-rsa host key only with SHA-1 signatures, which OpenSSH >= 8.8 no longer makes."
                : ""
            throw SSHError(.hostKey, host: hostName, """
                \(file) knows \(where_) by \(list), but the server offered \(key.type) \(key.fingerprint).\(rsaOnly) \
                Refused, also with --accept-new. If that fingerprint is the host's (ssh-keygen -lf on the host's \
                /etc/ssh/ssh_host_*_key.pub), add this line to \(file):
                \(addLine)
                """, hostKeyProblem: .otherTypeKnown)
        }
        if options.acceptNewHostKeys {
            do {
                if try KnownHostsStore.shared.append(line: addLine, to: file) {
                    log.warning("permanently added \(key.type) \(key.fingerprint) for \(verifier.name) to \(file)")
                }
            } catch {
                throw SSHError(.hostKey, host: hostName, "\(error)")
            }
            return
        }
        throw SSHError(.hostKey, host: hostName, """
            the host key of \(where_) is not in \(file): the server offered \(key.type) \(key.fingerprint). \
            If that is the host's key (compare with `ssh-keygen -lf /etc/ssh/ssh_host_\(Self.keyFileStem(key.type))_key.pub` \
            on the host), add this line to \(file), or run again with --accept-new to record it:
            \(addLine)
            """, hostKeyProblem: .unknown)
    }

    private static func keyFileStem(_ type: String) -> String {
        if type.hasPrefix("ecdsa") { return "ecdsa" }
        if type == "ssh-rsa" { return "rsa" }
        return "ed25519"
    }

    // MARK: Waiting

    /// Calls `body` until it stops returning EAGAIN, waiting on the socket in between.
    func retry(_ step: SSHError.Step, until deadline: Deadline? = nil, _ body: () -> Int32) throws -> Int32 {
        while true {
            let rc = body()
            if rc != LibSSH2.eagain { return rc }
            try waitSocket(step, until: deadline ?? self.deadline)
        }
    }

    /// As `retry`, for calls that return a pointer and report EAGAIN through the session's last errno.
    func retryPointer<Pointer>(_ step: SSHError.Step, until deadline: Deadline? = nil, _ body: () -> Pointer?) throws -> Pointer? {
        while true {
            if let pointer = body() { return pointer }
            if libssh2_session_last_errno(raw) != LibSSH2.eagain { return nil }
            try waitSocket(step, until: deadline ?? self.deadline)
        }
    }

    /// The one wait in FWSSH: poll() in the directions libssh2 is blocked on, until the deadline.
    func waitSocket(_ step: SSHError.Step, until deadline: Deadline) throws {
        let directions = libssh2_session_block_directions(raw)
        var events: Int16 = 0
        if directions & LIBSSH2_SESSION_BLOCK_INBOUND != 0 { events |= Int16(POLLIN) }
        if directions & LIBSSH2_SESSION_BLOCK_OUTBOUND != 0 { events |= Int16(POLLOUT) }
        var timeout = deadline.pollMilliseconds
        if events == 0 {
            // EAGAIN without a socket direction (e.g. a state machine step): retry soon rather than sleep long.
            events = Int16(POLLIN)
            timeout = min(timeout, 5)
        }
        if deadline.hasPassed { throw timeoutError(step) }
        var pfd = pollfd(fd: socket, events: events, revents: 0)
        let n = poll(&pfd, 1, timeout)
        if n < 0 && errno != EINTR {
            throw SSHError(step, host: hostName, "poll on the connection failed: \(TCPConnector.errnoText())")
        }
        if n == 0 && deadline.hasPassed { throw timeoutError(step) }
    }

    func timeoutError(_ step: SSHError.Step) -> SSHError {
        let budget = "the per-host timeout of \(options.hostTimeout.humanReadable)"
        switch step {
        case .handshake:
            return SSHError(.timeout, host: hostName,
                            "\(connectedAddress) port \(target.port) accepted TCP but did not complete the SSH handshake in time (connect timeout \(options.connectTimeout.humanReadable), \(budget)); is sshd overloaded (MaxStartups) or is this not an SSH port?",
                            during: step)
        case .hostKey, .auth:
            return SSHError(.timeout, host: hostName, "the server stopped answering during authentication (\(budget))", during: step)
        default:
            return SSHError(.timeout, host: hostName, "no answer within \(budget)", during: step)
        }
    }

    // MARK: Closing

    /// Says goodbye to the server and frees everything; safe to call twice. Bounded by a short grace period, so a
    /// dead server cannot hold it up.
    public func close() {
        guard !closed else { return }
        closed = true
        let grace = Deadline.after(.milliseconds(500))
        if let sftp {
            _ = try? retry(.exec, until: grace) { libssh2_sftp_shutdown(sftp) }
            self.sftp = nil
        }
        _ = try? retry(.exec, until: grace) {
            libssh2_session_disconnect_ex(raw, SSH_DISCONNECT_BY_APPLICATION, "fwctl: done", "")
        }
        // Once the socket is shut down, anything libssh2 still wants to send fails at once instead of EAGAIN.
        shutdown(socket, Int32(SHUT_RDWR))
        var attempts = 0
        while libssh2_session_free(raw) == LibSSH2.eagain, attempts < 100 { attempts += 1 }
        Glibc.close(socket)
        ownedJumps?.close()
        ownedJumps = nil
    }
}

@available(*, unavailable, message: "an SSHSession belongs to one thread; open one per host inside HostRunner")
extension SSHSession: Sendable {}
