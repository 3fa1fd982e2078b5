import FWSSH
import Foundation
import Synchronization
import Testing
import TestSupport

/// `fwctl ping --become` as a user runs it, from a controller namespace that reaches only the bastion; the inner
/// hosts log in a non-root user (throwaway accounts private to their sshd) who becomes root with a sudo password
/// from FWCTL_BECOME_PASSWORD. The password must never show: not on stdout (--json), not in the logs, not in any
/// process's command line while it runs.
@Suite(.serialized) struct PingThroughJumpTests {
    let fwctl = RepoPaths.fwctl.path
    static let password = "jump-sudo-\(UInt32.random(in: 100_000...999_999))"

    @Test func pingBecomeThroughTheBastion() throws {
        try Integration.require(.root, .networkNamespaces, .command("sshd"), .command("ssh-keygen"), .command("sudo"),
                                .command("unshare"), .command("openssl"))
        let lab = try NetworkLab()
        var servers: [SSHDFixture] = []
        defer {
            servers.forEach { $0.stop() }
            lab.shutdown()
        }
        let controller = try lab.addHost("ctl", ipv4: "10.92.1.1/24")
        let bastionHost = try lab.addHost("bas", ipv4: "10.92.1.2/24")
        try lab.check(bastionHost, ["ip", "addr", "add", "10.92.2.2/24", "dev", "eth0"])
        let innerHost = try lab.addHost("in", ipv4: "10.92.2.10/24")
        for n in 11...14 { try lab.check(innerHost, ["ip", "addr", "add", "10.92.2.\(n)/24", "dev", "eth0"]) }
        let bastion = try SSHDFixture(listen: ["10.92.1.2"], hostKeys: [.ed25519], namespace: bastionHost.namespace, port: 2222)
        servers.append(bastion)
        let inner = try SSHDFixture(listen: (10...14).map { "10.92.2.\($0)" }, hostKeys: [.ecdsa], namespace: innerHost.namespace, port: 22,
                                    users: [try TestUser.make("fwtops", uid: 42_430, password: Self.password),
                                            try TestUser.make("fwtnone", uid: 42_431, password: Self.password)],
                                    sudoers: ["fwtops ALL=(ALL) ALL"])
        servers.append(inner)

        let key = try TestKeys.client(.ed25519)
        let knownHosts = try bastion.writeKnownHosts(
            ["[10.92.1.2]:2222 \(try TestKeys.publicKey(TestKeys.host(.ed25519)))"]
                + (10...14).map { "10.92.2.\($0) \(try TestKeys.publicKey(TestKeys.host(.ecdsa)))" })
        func inventory(jump: Bool) throws -> String {
            var lines = ["[bastion]", "bastion ansible_host=10.92.1.2 ansible_port=2222 ansible_user=root ansible_ssh_private_key_file=\(key)",
                         "[inner]"]
            lines += (10...13).map { "in\($0) ansible_host=10.92.2.\($0)" }
            lines += ["nosudo ansible_host=10.92.2.14 ansible_user=fwtnone", "[inner:vars]", "ansible_user=fwtops", "ansible_become=true",
                      "ansible_ssh_private_key_file=\(key)"]
            if jump { lines.append("ansible_ssh_common_args='-o ProxyJump=bastion -o ServerAliveInterval=5'") }
            let path = bastion.dir.appendingPathComponent("inventory-\(jump).ini").path
            try (lines.joined(separator: "\n") + "\n").write(toFile: path, atomically: true, encoding: .utf8)
            return path
        }
        let environment = ["HOME": bastion.dir.path, "PATH": "/usr/sbin:/usr/bin:/sbin:/bin", "FWCTL_BECOME_PASSWORD": Self.password]
        func ping(_ inventory: String, _ extra: [String]) throws -> ProcessResult {
            try runProcess("/usr/bin/env", ["ip", "netns", "exec", controller.namespace, fwctl, "ping", "-i", inventory,
                                            "--known-hosts", knownHosts, "--timeout", "20"] + extra, environment: environment, timeout: 60)
        }

        // The scanner must be able to see a secret on a command line: a canary first.
        let canaryText = "canary-" + String(Self.password.reversed())
        let scanner = CommandLineScanner(secrets: [Self.password, canaryText])
        let canary = try Daemon("/bin/sh", ["-c", "sleep 5", canaryText], logPath: "/dev/null")
        #expect(scanner.waitToSee(canaryText, timeout: 5))
        canary.stop()

        scanner.start()
        var runs: [ProcessResult] = []
        // Repeat until the scanner has caught sudo running at least once (bounded), so the scan really overlapped it.
        for _ in 0..<10 {
            runs.append(try ping(try inventory(jump: true), ["--become", "--json", "-vv"]))
            if scanner.sawSudo { break }
        }
        scanner.stop()
        #expect(scanner.sawSudo, "the scan never overlapped a sudo process")
        #expect(scanner.leaks.isEmpty, "the password appeared on a command line: \(scanner.leaks)")

        let result = try #require(runs.last)
        #expect(result.status == 1, "\(result.stderrText)")
        for run in runs {
            #expect(!run.stdoutText.contains(Self.password) && !run.stderrText.contains(Self.password), "the password was printed")
        }
        let rows = try #require(try JSONSerialization.jsonObject(with: result.stdout) as? [[String: Any]], "\(result.stdoutText)")
        let byHost = Dictionary(uniqueKeysWithValues: rows.map { ($0["host"] as? String ?? "?", $0) })
        #expect(byHost.count == 6)
        for host in ["in10", "in11", "in12", "in13"] {
            let row = try #require(byHost[host])
            #expect(row["ok"] as? Bool == true, "\(host): \(row)")
            #expect(row["runsAs"] as? String == "root")
            #expect(row["via"] as? [String] == ["bastion"])
            #expect(row["user"] as? String == "fwtops")
        }
        #expect(byHost["bastion"]?["ok"] as? Bool == true)
        #expect(byHost["bastion"]?["via"] as? [String] == [])
        #expect(byHost["nosudo"]?["result"] as? String == "sudo refused")
        #expect((byHost["nosudo"]?["message"] as? String)?.contains("not in the sudoers file") == true)
        // The ssh argument fwctl cannot honour is reported, naming the host and the option.
        #expect(result.stderrText.contains("host 'in10': ansible_ssh_common_args: -o ServerAliveInterval=5 is not honoured"))
        // One login to the bastion per run carried all five inner hosts (plus the bastion's own ping).
        #expect(bastion.log.components(separatedBy: "Accepted publickey").count - 1 == 2 * runs.count)

        // Without the jump, the controller cannot reach the inner hosts at all.
        let direct = try ping(try inventory(jump: false), ["--json"])
        let directRows = try #require(try JSONSerialization.jsonObject(with: direct.stdout) as? [[String: Any]])
        #expect(directRows.filter { $0["result"] as? String == "unreachable" }.count == 5, "\(direct.stdoutText)")
    }
}

/// Reads every process's /proc/PID/cmdline over and over on its own thread, recording any that holds a secret.
final class CommandLineScanner: Sendable {
    private let secrets: [Data]
    private struct State {
        var running = false
        var leaks: [String] = []
        var sawSudo = false
        var seen: Set<String> = []
    }
    private let state = Mutex(State())
    private let done = DispatchSemaphore(value: 0)

    init(secrets: [String]) { self.secrets = secrets.map { Data($0.utf8) } }

    var leaks: [String] { state.withLock { $0.leaks } }
    var sawSudo: Bool { state.withLock { $0.sawSudo } }

    /// One pass; returns the command lines that hold a secret.
    func scanOnce() -> [String] {
        var found: [String] = []
        var sudo = false
        for entry in (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? [] where entry.allSatisfy(\.isNumber) {
            guard let data = FileManager.default.contents(atPath: "/proc/\(entry)/cmdline"), !data.isEmpty else { continue }
            let text = String(decoding: data.map { $0 == 0 ? 0x20 : $0 }, as: UTF8.self)
            if text.hasPrefix("sudo -k -S") { sudo = true }
            if secrets.contains(where: { data.range(of: $0) != nil }) { found.append("pid \(entry): \(text)") }
        }
        let sawSudo = sudo
        state.withLock { if sawSudo { $0.sawSudo = true } }
        return found
    }

    func waitToSee(_ secret: String, timeout: TimeInterval) -> Bool {
        let until = Date().addingTimeInterval(timeout)
        while Date() < until {
            if scanOnce().contains(where: { $0.contains(secret) }) { return true }
            usleep(10_000)
        }
        return false
    }

    func start() {
        state.withLock { $0.running = true }
        Thread {
            defer { self.done.signal() }
            let until = Date().addingTimeInterval(300)  // bounded, whatever the test does
            while self.state.withLock({ $0.running }) && Date() < until {
                let found = self.scanOnce()
                if !found.isEmpty { self.state.withLock { $0.leaks += found } }
            }
        }.start()
    }

    func stop() {
        state.withLock { $0.running = false }
        done.wait()
    }
}
