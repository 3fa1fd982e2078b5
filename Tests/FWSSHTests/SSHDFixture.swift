import FWSSH
import Foundation
import Synchronization
import TestSupport

/// Keys made once per test process with ssh-keygen: host keys for the fixtures' sshds and client keys.
enum TestKeys {
    enum HostKey: String, CaseIterable, Sendable {
        case ed25519, ecdsa, rsa, ed25519Other = "ed25519-other"
    }

    enum ClientKey: String, CaseIterable, Sendable {
        case ed25519, ecdsa, rsa, encrypted = "ed25519-encrypted", unauthorized = "ed25519-unauthorized"
    }

    static let passphrase = "correct horse battery staple"

    /// The directory with all keys; created on first use (throws if ssh-keygen fails).
    static func directory() throws -> URL {
        try made.withLock { made in
            if let made { return made }
            let dir = FileManager.default.temporaryDirectory.appendingPathComponent("fwssh-keys-\(getpid())")
            try? FileManager.default.removeItem(at: dir)
            try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
            for key in HostKey.allCases {
                try keygen(type: key, path: dir.appendingPathComponent("host_\(key.rawValue)").path, passphrase: "")
            }
            for key in ClientKey.allCases {
                try keygen(type: key, path: dir.appendingPathComponent("id_\(key.rawValue)").path,
                           passphrase: key == .encrypted ? passphrase : "")
            }
            atexit { try? FileManager.default.removeItem(atPath: FileManager.default.temporaryDirectory.appendingPathComponent("fwssh-keys-\(getpid())").path) }
            made = dir
            return dir
        }
    }

    static func host(_ key: HostKey) throws -> String { try directory().appendingPathComponent("host_\(key.rawValue)").path }
    static func client(_ key: ClientKey) throws -> String { try directory().appendingPathComponent("id_\(key.rawValue)").path }

    /// "type base64" of a public key file.
    static func publicKey(_ privatePath: String) throws -> String {
        let text = try String(contentsOfFile: privatePath + ".pub", encoding: .utf8)
        return text.split(separator: " ").prefix(2).joined(separator: " ")
    }

    private static let made = Mutex<URL?>(nil)

    private static func keygen<K: RawRepresentable>(type: K, path: String, passphrase: String) throws where K.RawValue == String {
        let kind = type.rawValue.hasPrefix("ed25519") ? ["-t", "ed25519"] : type.rawValue == "ecdsa" ? ["-t", "ecdsa", "-b", "256"] : ["-t", "rsa", "-b", "2048"]
        let result = try runProcess("ssh-keygen", kind + ["-q", "-N", passphrase, "-C", "fwssh-test-\(type.rawValue)", "-f", path])
        guard result.status == 0 else { throw FixtureError("ssh-keygen failed: \(result.stderrText)") }
    }
}

/// A login account that exists only for one fixture's sshd (see `SSHDFixture.init(users:)`).
struct TestUser: Sendable {
    var name: String
    var uid: Int
    /// crypt(3) hash for /etc/shadow (`openssl passwd -6`).
    var passwordHash: String

    /// A user whose sudo password is `password`.
    static func make(_ name: String, uid: Int, password: String) throws -> TestUser {
        let result = try runProcess("openssl", ["passwd", "-6", "-stdin"], stdin: Data(password.utf8))
        guard result.status == 0 else { throw FixtureError("openssl passwd failed: \(result.stderrText)") }
        return TestUser(name: name, uid: uid, passwordHash: result.stdoutText.trimmingCharacters(in: .whitespacesAndNewlines))
    }
}

struct FixtureError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

/// A real OpenSSH sshd on loopback for one test, in its own temporary directory, on a free port. `stop()` (call it
/// in a `defer`) kills it and removes the directory, whether or not the test passed.
final class SSHDFixture: @unchecked Sendable {
    // @unchecked: all stored properties are set in init and never change; `process` is only touched by stop(),
    // which the owning test calls once.
    let dir: URL
    let port: Int
    let listenAddresses: [String]
    let hostKeys: [TestKeys.HostKey]
    private let folder: TemporaryFolder
    private let process: Daemon

    /// - Parameters:
    ///   - listen: addresses for `ListenAddress` (all on the same port).
    ///   - hostKeys: the host keys sshd offers.
    ///   - sftp: false leaves the SFTP subsystem out (uploads must fall back to SCP).
    ///   - programs: shell scripts (name -> text) found first on the PATH of commands run through this sshd, to
    ///     stand in for a host's own programs (`scp`).
    ///   - namespace: run sshd inside this network namespace (its addresses in `listen`); readiness is then seen
    ///     from sshd's pid file, since the test process cannot reach the namespace.
    ///   - port: the port to listen on (default: one free on the machine).
    ///   - users: login users added to private copies of /etc/passwd, /etc/shadow and /etc/group that only this
    ///     sshd (and what it starts: sudo) sees, through bind mounts in a private mount namespace; `sudoers` lines
    ///     go to a private /etc/sudoers.d. Nothing changes on the machine.
    init(listen: [String] = ["127.0.0.1"], hostKeys: [TestKeys.HostKey] = [.ed25519, .ecdsa], sftp: Bool = true,
         authorized: [TestKeys.ClientKey] = [.ed25519, .ecdsa, .rsa, .encrypted], programs: [String: String] = [:],
         namespace: String? = nil, port fixedPort: Int? = nil, users: [TestUser] = [], sudoers: [String] = []) throws {
        folder = try TemporaryFolder("fwssh-sshd")
        dir = folder.url
        chmod(dir.path, 0o755)  // the login users read authorized_keys here
        listenAddresses = listen
        self.hostKeys = hostKeys
        // sshd's privilege separation directory; a fresh container may not have it.
        try FileManager.default.createDirectory(atPath: "/run/sshd", withIntermediateDirectories: true)

        let authorizedKeys = try authorized.map { try TestKeys.publicKey(TestKeys.client($0)) }.joined(separator: "\n") + "\n"
        try authorizedKeys.write(to: dir.appendingPathComponent("authorized_keys"), atomically: true, encoding: .utf8)
        chmod(dir.appendingPathComponent("authorized_keys").path, 0o644)
        let mounts = try Self.privateAccounts(users, sudoers: sudoers, in: dir)

        let bin = dir.appendingPathComponent("bin")
        try FileManager.default.createDirectory(at: bin, withIntermediateDirectories: true)
        for (name, script) in programs {
            let path = bin.appendingPathComponent(name).path
            try script.write(toFile: path, atomically: true, encoding: .utf8)
            chmod(path, 0o755)
        }

        var lastLog = ""
        for _ in 0..<5 {
            let port = try fixedPort ?? Self.freePort()
            var config = ["Port \(port)"] + listen.map { "ListenAddress \($0)" }
            config += try hostKeys.map { "HostKey \(try TestKeys.host($0))" }
            config += [
                "PidFile \(dir.path)/sshd.pid",
                "AuthorizedKeysFile \(dir.path)/authorized_keys",
                "UsePAM no", "StrictModes no", "PermitRootLogin prohibit-password",
                "PasswordAuthentication no", "KbdInteractiveAuthentication no", "PubkeyAuthentication yes",
                "MaxStartups 400", "MaxSessions 100", "MaxAuthTries 10", "UseDNS no", "PrintMotd no", "LogLevel VERBOSE",
                // Debian's bash sources ~/.bashrc for commands run by sshd; root's may be slow (pyenv init takes
                // 0.3 s here). Commands run with HOME in the fixture's directory instead.
                "SetEnv HOME=\(dir.path) PATH=\(bin.path):/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
            ]
            if sftp { config.append("Subsystem sftp internal-sftp") }
            let configPath = dir.appendingPathComponent("sshd_config")
            try (config.joined(separator: "\n") + "\n").write(to: configPath, atomically: true, encoding: .utf8)

            let logPath = dir.appendingPathComponent("sshd.log")
            let sshd = [try which("sshd"), "-D", "-e", "-f", configPath.path]
            var command = sshd
            if !mounts.isEmpty {
                // Each step execs the next, so the pid stays sshd's (the pid file check below relies on it).
                let binds = mounts.map { "mount --bind \(SSHDFixture.quoted($0.source)) \(SSHDFixture.quoted($0.target))" }
                command = [try which("unshare"), "-m", "--propagation", "private", "/bin/sh", "-c",
                           (binds + ["exec " + sshd.map(SSHDFixture.quoted).joined(separator: " ")]).joined(separator: " && ")]
            }
            if let namespace { command = [try which("ip"), "netns", "exec", namespace] + command }
            let process = try Daemon(command[0], Array(command.dropFirst()), logPath: logPath.path)
            let ready = namespace == nil
                ? Self.waitUntilListening(port: port, address: listen[0], process: process, pidFile: "\(dir.path)/sshd.pid")
                : Self.waitForPidFile(process: process, pidFile: "\(dir.path)/sshd.pid")
            if ready {
                self.port = port
                self.process = process
                return
            }
            process.stop()
            lastLog = (try? String(contentsOf: logPath, encoding: .utf8)) ?? ""
        }
        folder.remove()
        throw FixtureError("sshd did not start listening:\n\(lastLog)")
    }

    func stop() {
        process.stop()
        folder.remove()
    }

    var log: String { (try? String(contentsOf: dir.appendingPathComponent("sshd.log"), encoding: .utf8)) ?? "" }

    // MARK: What tests connect with

    /// The known_hosts line for `address` with the given host key, as OpenSSH would write it.
    func knownHostsLine(_ key: TestKeys.HostKey, address: String = "127.0.0.1") throws -> String {
        "[\(address)]:\(port) \(try TestKeys.publicKey(TestKeys.host(key)))"
    }

    /// Writes `lines` as a known_hosts file in the fixture's directory; returns its path.
    @discardableResult
    func writeKnownHosts(_ lines: [String], name: String = "known_hosts") throws -> String {
        let path = dir.appendingPathComponent(name).path
        try (lines.joined(separator: "\n") + (lines.isEmpty ? "" : "\n")).write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    func target(_ address: String = "127.0.0.1", name: String? = nil, key: TestKeys.ClientKey? = .ed25519, port: Int? = nil,
                user: String = "root") throws -> SSHTarget {
        SSHTarget(name: name ?? address, address: address, port: port ?? self.port, user: user,
                  identityFiles: try key.map { [try TestKeys.client($0)] } ?? [])
    }

    /// A session as root with the ed25519 client key, all of this sshd's host keys in a fresh known_hosts.
    func connect(key: TestKeys.ClientKey = .ed25519) throws -> SSHSession {
        let knownHosts = try writeKnownHosts(try hostKeys.map { try knownHostsLine($0, address: listenAddresses[0]) })
        return try SSHSession.connect(to: try target(listenAddresses[0], key: key), options: options(knownHosts: knownHosts))
    }

    /// Options isolated from the user's own ~/.ssh and agent: HOME is the fixture directory, no SSH_AUTH_SOCK.
    func options(knownHosts: String? = nil, acceptNew: Bool = false, environment: [String: String] = [:]) -> SSHOptions {
        var options = SSHOptions(environment: ["HOME": dir.path].merging(environment) { $1 })
        options.knownHostsFile = knownHosts ?? dir.appendingPathComponent("known_hosts").path
        options.acceptNewHostKeys = acceptNew
        options.defaultIdentityFiles = []
        options.passphrases = .none
        options.connectTimeout = .seconds(15)
        options.hostTimeout = .seconds(60)
        options.commandTimeout = .seconds(60)
        return options
    }

    // MARK: Ports

    /// A TCP port free on every address right now (the kernel picks it).
    static func freePort() throws -> Int {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw FixtureError("socket: \(errno)") }
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = 0
        address.sin_addr.s_addr = INADDR_ANY
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { pointer -> Bool in
                bind(fd, pointer, length) == 0 && getsockname(fd, pointer, &length) == 0
            }
        }
        guard bound else { throw FixtureError("bind: \(errno)") }
        return Int(UInt16(bigEndian: address.sin_port))
    }

    /// Ready when our sshd has written its pid file (it does so after binding its sockets) and the port answers.
    /// The pid check matters: the port was free when picked, but another test's sshd could have taken it since.
    private static func waitUntilListening(port: Int, address: String, process: Daemon, pidFile: String) -> Bool {
        let until = Date().addingTimeInterval(10)
        while Date() < until && process.isRunning {
            let pid = (try? String(contentsOfFile: pidFile, encoding: .utf8)).flatMap { Int32($0.trimmingCharacters(in: .whitespacesAndNewlines)) }
            if pid == process.pid && canConnect(address: address, port: port) { return true }
            usleep(20_000)
        }
        return false
    }

    /// sshd writes its pid file once its sockets listen.
    private static func waitForPidFile(process: Daemon, pidFile: String) -> Bool {
        let until = Date().addingTimeInterval(10)
        while Date() < until && process.isRunning {
            let pid = (try? String(contentsOfFile: pidFile, encoding: .utf8)).flatMap { Int32($0.trimmingCharacters(in: .whitespacesAndNewlines)) }
            if pid == process.pid { return true }
            usleep(20_000)
        }
        return false
    }

    static func quoted(_ text: String) -> String { "'" + text.replacingOccurrences(of: "'", with: "'\\''") + "'" }

    /// Private copies of the account files with `users` added, and a private sudoers.d, as (source, target) bind
    /// mounts; none without users.
    private static func privateAccounts(_ users: [TestUser], sudoers: [String], in dir: URL) throws -> [(source: String, target: String)] {
        guard !users.isEmpty else { return [] }
        let etc = dir.appendingPathComponent("etc")
        try FileManager.default.createDirectory(at: etc.appendingPathComponent("sudoers.d"), withIntermediateDirectories: true)
        var mounts: [(String, String)] = []
        for (file, line) in [("passwd", { (u: TestUser) in "\(u.name):x:\(u.uid):\(u.uid)::\(dir.path):/bin/sh" }),
                             ("shadow", { (u: TestUser) in "\(u.name):\(u.passwordHash):19000:0:99999:7:::" }),
                             ("group", { (u: TestUser) in "\(u.name):x:\(u.uid):" })] {
            var text = try String(contentsOfFile: "/etc/\(file)", encoding: .utf8)
            if !text.hasSuffix("\n") { text += "\n" }
            text += users.map(line).joined(separator: "\n") + "\n"
            let path = etc.appendingPathComponent(file).path
            try text.write(toFile: path, atomically: true, encoding: .utf8)
            chmod(path, file == "shadow" ? 0o640 : 0o644)
            mounts.append((path, "/etc/\(file)"))
        }
        let rules = etc.appendingPathComponent("sudoers.d/fwctl-test").path
        try (sudoers.joined(separator: "\n") + "\n").write(toFile: rules, atomically: true, encoding: .utf8)
        chmod(rules, 0o440)
        chmod(etc.appendingPathComponent("sudoers.d").path, 0o755)
        mounts.append((etc.appendingPathComponent("sudoers.d").path, "/etc/sudoers.d"))
        return mounts
    }

    static func canConnect(address: String, port: Int) -> Bool {
        var hints = addrinfo()
        hints.ai_flags = AI_NUMERICHOST
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        var list: UnsafeMutablePointer<addrinfo>?
        guard getaddrinfo(address, String(port), &hints, &list) == 0, let info = list else { return false }
        defer { freeaddrinfo(list) }
        let fd = socket(info.pointee.ai_family, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { return false }
        defer { close(fd) }
        return Glibc.connect(fd, info.pointee.ai_addr, info.pointee.ai_addrlen) == 0
    }
}

/// A TCP socket that accepts connections (the kernel completes the handshake) and never says anything: the
/// shape of a hung server.
final class SilentServer: @unchecked Sendable {
    // @unchecked: fd and port are immutable after init; close() is called once by the owning test.
    let fd: Int32
    let port: Int

    init() throws {
        guard let listener = loopbackListener() else { throw FixtureError("cannot listen on loopback: \(errno)") }
        fd = listener.fd
        port = listener.port
    }

    func close() { _ = Glibc.close(fd) }
}
