import FWSSH
import Foundation
import Testing
import TestSupport

/// Connecting and authenticating against a real OpenSSH sshd.
@Suite struct ConnectAndAuthTests {
    @Test(arguments: [TestKeys.ClientKey.ed25519, .ecdsa])
    func keyFileAuthRunsACommand(key: TestKeys.ClientKey) throws {
        try Integration.require(.root, .command("sshd"), .command("ssh-keygen"))
        let sshd = try SSHDFixture()
        defer { sshd.stop() }
        let knownHosts = try sshd.writeKnownHosts([try sshd.knownHostsLine(.ed25519), try sshd.knownHostsLine(.ecdsa)])
        let session = try SSHSession.connect(to: try sshd.target(key: key), options: sshd.options(knownHosts: knownHosts))
        defer { session.close() }
        let result = try session.exec("echo hello; echo oops >&2; exit 3")
        #expect(result.stdoutText == "hello\n")
        #expect(result.stderrText == "oops\n")
        #expect(result.status == 3)
        #expect(result.signal == nil)
        #expect(!result.succeeded)
        #expect(session.connectedAddress == "127.0.0.1")
    }

    @Test func encryptedKeyUsesThePassphraseFromTheEnvironment() throws {
        try Integration.require(.root, .command("sshd"), .command("ssh-keygen"))
        let sshd = try SSHDFixture()
        defer { sshd.stop() }
        let knownHosts = try sshd.writeKnownHosts([try sshd.knownHostsLine(.ed25519)])
        var options = sshd.options(knownHosts: knownHosts)
        options.passphrases = .environmentOrTerminal(["FWCTL_SSH_PASSPHRASE": TestKeys.passphrase])
        let session = try SSHSession.connect(to: try sshd.target(key: .encrypted), options: options)
        defer { session.close() }
        #expect(try session.exec("true").succeeded)

        // Without a passphrase the key is skipped, and the error says why and how to give one.
        options.passphrases = .environmentOrTerminal([:])
        let error = try #require(throws: SSHError.self) {
            try SSHSession.connect(to: try sshd.target(key: .encrypted), options: options)
        }
        #expect(error.step == .auth)
        #expect(error.message.contains("encrypted and no passphrase"))
        #expect(error.message.contains("FWCTL_SSH_PASSPHRASE"))

        // A wrong one is reported as such, and never printed.
        options.passphrases = .environmentOrTerminal(["FWCTL_SSH_PASSPHRASE": "not the passphrase"])
        let wrong = try #require(throws: SSHError.self) {
            try SSHSession.connect(to: try sshd.target(key: .encrypted), options: options)
        }
        #expect(wrong.message.contains("wrong passphrase"))
        #expect(!wrong.description.contains("not the passphrase"))
    }

    @Test func rsaKeyRejectionExplainsWhy() throws {
        try Integration.require(.root, .command("sshd"), .command("ssh-keygen"))
        let sshd = try SSHDFixture()
        defer { sshd.stop() }
        let knownHosts = try sshd.writeKnownHosts([try sshd.knownHostsLine(.ed25519)])
        let error = try #require(throws: SSHError.self) {
            try SSHSession.connect(to: try sshd.target(key: .rsa), options: sshd.options(knownHosts: knownHosts))
        }
        #expect(error.step == .auth)
        #expect(error.message.contains(try TestKeys.client(.rsa)))
        #expect(error.message.contains("rsa-sha2"))
        #expect(error.message.contains("OpenSSH >= 8.8"))
        #expect(error.message.contains("ed25519"))
    }

    @Test func refusalListsEverythingTried() throws {
        try Integration.require(.root, .command("sshd"), .command("ssh-keygen"))
        let sshd = try SSHDFixture()
        defer { sshd.stop() }
        let knownHosts = try sshd.writeKnownHosts([try sshd.knownHostsLine(.ed25519)])
        var options = sshd.options(knownHosts: knownHosts)
        options.defaultIdentityFiles = [sshd.dir.appendingPathComponent("absent_id_ed25519").path]
        let target = try sshd.target(key: .unauthorized)
        let error = try #require(throws: SSHError.self) { try SSHSession.connect(to: target, options: options) }
        #expect(error.step == .auth)
        #expect(error.reason == "auth refused")
        #expect(error.message.contains("SSH_AUTH_SOCK is not set"))
        #expect(error.message.contains("\(try TestKeys.client(.unauthorized)) (ssh-ed25519, rejected)"))
        #expect(error.message.contains("not present: \(sshd.dir.path)/absent_id_ed25519"))
        #expect(error.message.contains("authorized_keys"))
    }

    @Test func agentIdentitiesAreTriedFirst() throws {
        try Integration.require(.root, .command("sshd"), .command("ssh-keygen"), .command("ssh-agent"), .command("ssh-add"))
        let sshd = try SSHDFixture()
        defer { sshd.stop() }
        let agent = try SSHAgentFixture(directory: sshd.dir)
        defer { agent.stop() }
        try agent.add(TestKeys.client(.ecdsa))
        let knownHosts = try sshd.writeKnownHosts([try sshd.knownHostsLine(.ed25519)])
        let options = sshd.options(knownHosts: knownHosts, environment: ["SSH_AUTH_SOCK": agent.socket])

        // The target's ed25519 key file would get in too, but the agent's ECDSA key is offered first.
        let session = try SSHSession.connect(to: try sshd.target(key: .ed25519), options: options)
        defer { session.close() }
        #expect(try session.exec("echo $SSH_CONNECTION").stdoutText.hasPrefix("127.0.0.1 "))
        let agentKey = try runProcess("ssh-keygen", ["-l", "-E", "sha256", "-f", try TestKeys.client(.ecdsa) + ".pub"])
        let fingerprint = try #require(agentKey.stdoutText.split(separator: " ").dropFirst().first.map(String.init))
        #expect(sshd.log.contains("Accepted publickey for root from 127.0.0.1 port"))
        #expect(sshd.log.contains("ssh2: ECDSA \(fingerprint)"))
        #expect(!sshd.log.contains("ssh2: ED25519"))

        // An agent holding only a key the host does not know: the error counts what the agent offered.
        let other = try SSHAgentFixture(directory: sshd.dir, name: "agent2")
        defer { other.stop() }
        try other.add(TestKeys.client(.unauthorized))
        let error = try #require(throws: SSHError.self) {
            try SSHSession.connect(to: try sshd.target(key: nil), options: sshd.options(knownHosts: knownHosts, environment: ["SSH_AUTH_SOCK": other.socket]))
        }
        #expect(error.message.contains("agent (\(other.socket)): 1 identity rejected"))
    }

    @Test func ipv6Loopback() throws {
        try Integration.require(.root, .command("sshd"), .command("ssh-keygen"), .path("/proc/net/if_inet6"))
        let sshd = try SSHDFixture(listen: ["::1"])
        defer { sshd.stop() }
        let knownHosts = try sshd.writeKnownHosts([try sshd.knownHostsLine(.ed25519, address: "::1")])
        let session = try SSHSession.connect(to: try sshd.target("::1"), options: sshd.options(knownHosts: knownHosts))
        defer { session.close() }
        #expect(session.connectedAddress == "::1")
        #expect(try session.exec("echo $SSH_CONNECTION").stdoutText.hasPrefix("::1 "))
        // The bracketed form of the address means the same host.
        let bracketed = try SSHSession.connect(to: SSHTarget(name: "v6", address: "[::1]", port: sshd.port, user: "root",
                                                             identityFiles: [try TestKeys.client(.ed25519)]),
                                               options: sshd.options(knownHosts: knownHosts))
        bracketed.close()
    }

    @Test func dnsNameTriesEachAddressAndIsLookedUpByName() throws {
        try Integration.require(.root, .command("sshd"), .command("ssh-keygen"))
        // sshd listens on 127.0.0.1 only; "localhost" may resolve to ::1 first, which refuses, then 127.0.0.1.
        let sshd = try SSHDFixture(hostKeys: [.ed25519])
        defer { sshd.stop() }
        let line = "[localhost]:\(sshd.port) " + (try TestKeys.publicKey(TestKeys.host(.ed25519)))
        let knownHosts = try sshd.writeKnownHosts([line])
        let session = try SSHSession.connect(to: try sshd.target("localhost"), options: sshd.options(knownHosts: knownHosts))
        defer { session.close() }
        #expect(session.connectedAddress == "127.0.0.1")
        // A second, fresh connection within the first one's deadline (as deploy confirms a change).
        let fresh = try SSHSession.connect(to: session.target, options: session.options, deadline: session.deadline)
        #expect(fresh.deadline == session.deadline)
        #expect(try fresh.exec("echo fresh").stdoutText == "fresh\n")
        fresh.close()
    }

    @Test func connectionRefusedIsUnreachable() throws {
        try Integration.require(.root)
        let port = try SSHDFixture.freePort()
        let error = try connectFailing(port: port)
        #expect(error.step == .connect)
        #expect(error.reason == "unreachable")
        #expect(error.message.contains("connection refused"))
        #expect(error.message.contains("127.0.0.1 port \(port)"))
    }

    @Test func serverThatNeverSpeaksTimesOutInTheHandshake() throws {
        try Integration.require(.root)
        let silent = try SilentServer()
        defer { silent.close() }
        let started = ContinuousClock.now
        let error = try connectFailing(port: silent.port, connectTimeout: .milliseconds(700))
        let elapsed = ContinuousClock.now - started
        #expect(error.step == .timeout)
        #expect(error.during == .handshake)
        #expect(error.message.contains("accepted TCP but did not complete the SSH handshake"))
        #expect(elapsed >= .milliseconds(600) && elapsed < .seconds(10), "took \(elapsed)")
    }

    @Test func aServerThatIsNotSSHFailsTheHandshakeWithAHint() throws {
        try Integration.require(.root)
        let server = try SilentServer()
        defer { server.close() }
        // Answer the first connection like a web server would, then hang up.
        let fd = server.fd
        Thread.detachNewThread {
            let client = accept(fd, nil, nil)
            guard client >= 0 else { return }
            let reply = "HTTP/1.1 400 Bad Request\r\n\r\n"
            _ = reply.withCString { write(client, $0, strlen($0)) }
            Glibc.close(client)
        }
        let error = try connectFailing(port: server.port)
        #expect(error.step == .handshake)
        #expect(error.message.contains("127.0.0.1 port \(server.port)"))
        #expect(error.message.contains("not an SSH server"))
    }

    @Test func hostDeadlineBoundsTheHandshakeToo() throws {
        try Integration.require(.root)
        let silent = try SilentServer()
        defer { silent.close() }
        let started = ContinuousClock.now
        let error = try connectFailing(port: silent.port, connectTimeout: .seconds(30), deadline: .after(.milliseconds(500)))
        #expect(error.step == .timeout)
        #expect(error.during == .handshake)
        #expect(ContinuousClock.now - started < .seconds(10))
    }

    /// Connects to loopback `port` (no keys, no known hosts) expecting a failure.
    private func connectFailing(port: Int, connectTimeout: Duration = .seconds(10), deadline: Deadline? = nil) throws -> SSHError {
        var options = SSHOptions(environment: ["HOME": "/nonexistent"])
        options.defaultIdentityFiles = []
        options.connectTimeout = connectTimeout
        options.hostTimeout = .seconds(30)
        return try #require(throws: SSHError.self) {
            try SSHSession.connect(to: SSHTarget(name: "t", address: "127.0.0.1", port: port, user: "root"), options: options, deadline: deadline)
        }
    }

    @Test func badPortAndUnresolvableNameAreConnectErrors() throws {
        let options = SSHOptions(environment: ["HOME": "/nonexistent"])
        let badPort = try #require(throws: SSHError.self) {
            try SSHSession.connect(to: SSHTarget(name: "x", address: "127.0.0.1", port: 70000, user: "root"), options: options)
        }
        #expect(badPort.step == .connect)
        #expect(badPort.message.contains("70000"))
        // The empty label makes the resolver refuse the name itself: no DNS query leaves the machine.
        let badName = try #require(throws: SSHError.self) {
            try SSHSession.connect(to: SSHTarget(name: "x", address: "no-such-host..invalid", user: "root"), options: options)
        }
        #expect(badName.step == .connect)
        #expect(badName.message.contains("cannot resolve no-such-host..invalid"))
    }
}

/// A real ssh-agent in the foreground on a socket in the test's directory.
final class SSHAgentFixture: @unchecked Sendable {
    // @unchecked: immutable after init; stop() is called once by the owning test.
    let socket: String
    private let process: Daemon

    init(directory: URL, name: String = "agent") throws {
        socket = directory.appendingPathComponent("\(name).sock").path
        process = try Daemon(try which("ssh-agent"), ["-D", "-a", socket], logPath: directory.appendingPathComponent("\(name).log").path)
        let until = Date().addingTimeInterval(10)
        while !FileManager.default.fileExists(atPath: socket) && Date() < until { usleep(10_000) }
        guard FileManager.default.fileExists(atPath: socket) else {
            stop()
            throw FixtureError("ssh-agent did not create \(socket)")
        }
    }

    func add(_ keyPath: String) throws {
        let result = try runProcess("ssh-add", [keyPath], environment: ["SSH_AUTH_SOCK": socket, "PATH": "/usr/bin:/bin"])
        guard result.status == 0 else { throw FixtureError("ssh-add failed: \(result.stderrText)") }
    }

    func stop() { process.stop() }
}
