import FWBase
import FWSSH
import Foundation
import Testing
import TestSupport

/// sudo for real: a loopback sshd whose private /etc/passwd, shadow, group and sudoers.d (bind mounts in its own
/// mount namespace) hold throwaway users; the machine's own accounts are untouched.
@Suite(.serialized) struct BecomeTests {
    static let password = "pw-\(UInt32.random(in: 100_000...999_999))-sudo"

    final class Host: @unchecked Sendable {
        // @unchecked: immutable after init; stop() is called once by the test.
        let sshd: SSHDFixture
        init() throws {
            let users = [
                try TestUser.make("fwtpass", uid: 42_420, password: BecomeTests.password),
                try TestUser.make("fwtnopass", uid: 42_421, password: "unused-\(UInt32.random(in: 0...999_999))"),
                try TestUser.make("fwtnone", uid: 42_422, password: BecomeTests.password),
                try TestUser.make("fwtsome", uid: 42_423, password: BecomeTests.password),
            ]
            sshd = try SSHDFixture(hostKeys: [.ed25519], users: users, sudoers: [
                "fwtpass ALL=(ALL) ALL",
                "fwtnopass ALL=(ALL) NOPASSWD: ALL",
                "fwtsome ALL=(root) /usr/bin/id",
            ])
        }

        func stop() { sshd.stop() }

        func connect(_ user: String, become: Become? = Become(), environment: [String: String] = [:]) throws -> SSHSession {
            var target = try sshd.target(user: user)
            target.become = become
            var options = sshd.options(knownHosts: try sshd.writeKnownHosts([try sshd.knownHostsLine(.ed25519)]))
            options.becomePasswords = .environmentOrTerminal(environment)
            return try SSHSession.connect(to: target, options: options)
        }
    }

    static func requirements() throws {
        try Integration.require(.root, .command("sshd"), .command("ssh-keygen"), .command("sudo"), .command("unshare"), .command("openssl"))
    }

    @Test func passwordFromTheEnvironmentOnSudosStdinOnly() throws {
        try Self.requirements()
        let host = try Host()
        defer { host.stop() }
        let session = try host.connect("fwtpass", environment: ["FWCTL_BECOME_PASSWORD": Self.password])
        defer { session.close() }
        #expect(try session.exec("id -un").stdoutText == "fwtpass\n")
        #expect(try session.checkBecome() == "root")
        #expect(try session.run("id -u", asRoot: true).stdoutText == "0\n")
        // The command's own stdin follows the password line, which sudo alone reads.
        let echoed = try session.run("cat", asRoot: true, stdin: Data("payload\n".utf8))
        #expect(echoed.stdoutText == "payload\n")
        #expect(!echoed.stdoutText.contains(Self.password) && !echoed.stderrText.contains(Self.password))
        // Not as root: the login user, without sudo.
        #expect(try session.run("id -u", asRoot: false).stdoutText == "42420\n")
    }

    @Test func installLandsPrivatelyThenRootMovesItIntoPlace() throws {
        try Self.requirements()
        let host = try Host()
        defer { host.stop() }
        let session = try host.connect("fwtpass", environment: ["FWCTL_BECOME_PASSWORD": Self.password])
        defer { session.close() }
        let target = try TemporaryFolder("fwssh-install")
        defer { target.remove() }
        chmod(target.url.path, 0o755)  // root's folder: the login user cannot write there itself
        let rules = target.url.appendingPathComponent("rules.v4").path
        let other = target.url.appendingPathComponent("ipsets").path
        try "old\n".write(toFile: rules, atomically: true, encoding: .utf8)
        #expect(try session.exec("echo x > \(SSHSession.shellQuoted(rules))").succeeded == false)
        try session.install([FileBytes(path: rules, bytes: Array("*filter\nCOMMIT\n".utf8), mode: 0o640),
                             FileBytes(path: other, bytes: Array("create x hash:net\n".utf8), mode: 0o600)], asRoot: true)
        #expect(try String(contentsOfFile: rules, encoding: .utf8) == "*filter\nCOMMIT\n")
        #expect(try String(contentsOfFile: other, encoding: .utf8) == "create x hash:net\n")
        for (path, mode) in [(rules, 0o640), (other, 0o600)] {
            let attributes = try FileManager.default.attributesOfItem(atPath: path)
            #expect(attributes[.ownerAccountID] as? Int == 0, "\(path) is root's")
            #expect(attributes[.posixPermissions] as? Int == mode)
        }
        // Nothing left behind: no staging folder of the login user, no temporary file beside the targets.
        let leftovers = try FileManager.default.contentsOfDirectory(atPath: NSTemporaryDirectory()).filter { $0.hasPrefix("fwctl-install.") }
        let theirs = leftovers.filter { (try? FileManager.default.attributesOfItem(atPath: NSTemporaryDirectory() + "/" + $0)[.ownerAccountID] as? Int) == 42_420 }
        #expect(theirs.isEmpty, "\(theirs)")
        #expect(try FileManager.default.contentsOfDirectory(atPath: target.url.path).sorted() == ["ipsets", "rules.v4"])
    }

    @Test func passwordlessSudo() throws {
        try Self.requirements()
        let host = try Host()
        defer { host.stop() }
        let session = try host.connect("fwtnopass")  // no password anywhere
        defer { session.close() }
        #expect(try session.checkBecome() == "root")
        #expect(try session.run("id -u; cat", asRoot: true, stdin: Data("in".utf8)).stdoutText == "0\nin")
    }

    @Test func sudoRefusalsSayWhy() throws {
        try Self.requirements()
        let host = try Host()
        defer { host.stop() }
        func becomeError(_ user: String, _ environment: [String: String], become: Become? = Become()) throws -> SSHError {
            let session = try host.connect(user, become: become, environment: environment)
            defer { session.close() }
            #expect(throws: SSHError.self) { try session.run("true", asRoot: true) }
            do {
                try session.checkBecome()
            } catch let error as SSHError {
                return error
            }
            throw FixtureError("\(user): sudo was not refused")
        }
        let wrong = try becomeError("fwtpass", ["FWCTL_BECOME_PASSWORD": "not-the-password"])
        #expect(wrong.step == .become)
        #expect(wrong.reason == "sudo refused")
        #expect(wrong.message.contains("sudo refused the password of fwtpass"))
        #expect(!wrong.description.contains("not-the-password"))

        let none = try becomeError("fwtpass", [:])
        #expect(none.message.contains("asks fwtpass for a password and fwctl has none"))
        #expect(none.message.contains("FWCTL_BECOME_PASSWORD"))

        let notInSudoers = try becomeError("fwtnone", ["FWCTL_BECOME_PASSWORD": Self.password])
        #expect(notInSudoers.message.contains("sudo refuses fwtnone"))
        #expect(notInSudoers.message.contains("not in the sudoers file"), "\(notInSudoers.message)")

        let limited = try becomeError("fwtsome", ["FWCTL_BECOME_PASSWORD": Self.password])
        #expect(limited.message.contains("sudo refuses fwtsome"), "\(limited.message)")

        // From the inventory: the password on the target wins over the environment.
        let session = try host.connect("fwtpass", become: Become(password: SecretText(Self.password)),
                                       environment: ["FWCTL_BECOME_PASSWORD": "not-the-password"])
        defer { session.close() }
        #expect(try session.run("id -u", asRoot: true).stdoutText == "0\n")

        // No become at all, logged in as a user who is not root.
        let plain = try becomeError("fwtpass", [:], become: nil)
        #expect(plain.message.contains("set ansible_become: true"))
    }

    @Test func pingAsksForTheSudoPasswordOnceOnTheTerminalWithoutEcho() throws {
        try Self.requirements()
        try Integration.require(.command("script"))
        let host = try Host()
        defer { host.stop() }
        let sshd = host.sshd
        let key = try TestKeys.client(.ed25519)
        let inventory = sshd.dir.appendingPathComponent("become.ini").path
        try ["[fleet]",
             "web1 ansible_host=127.0.0.1 ansible_port=\(sshd.port) ansible_user=fwtpass ansible_become=true ansible_ssh_private_key_file=\(key)",
             "web2 ansible_host=127.0.0.1 ansible_port=\(sshd.port) ansible_user=fwtpass ansible_become=true ansible_ssh_private_key_file=\(key)",
            ].joined(separator: "\n").appending("\n").write(toFile: inventory, atomically: true, encoding: .utf8)
        let knownHosts = try sshd.writeKnownHosts([try sshd.knownHostsLine(.ed25519)])
        let command = [RepoPaths.fwctl.path, "ping", "-i", inventory, "--known-hosts", knownHosts, "--become", "--parallel", "2",
                       "--timeout", "20"].map(SSHSession.shellQuoted).joined(separator: " ")
        let prompt = "BECOME password (sudo): "
        let environment = ["HOME": sshd.dir.path, "PATH": "/usr/sbin:/usr/bin:/sbin:/bin", "TERM": "dumb"]
        let (status, screen) = try PingCommandTests().converse(["script", "-q", "-e", "-c", command, "/dev/null"], environment: environment,
                                                               when: prompt, type: Self.password + "\n")
        #expect(status == 0, "\(screen)")
        #expect(screen.components(separatedBy: prompt).count == 2, "asked exactly once:\n\(screen)")
        #expect(!screen.contains(Self.password), "the password was echoed or printed")
        #expect(screen.contains("web1") && screen.contains("web2"))
    }
}
