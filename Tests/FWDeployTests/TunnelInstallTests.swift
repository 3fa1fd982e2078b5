import Foundation
import Testing
import TestSupport

/// `fwctl tunnel install` in a `fwctl lab`: home (gw) outside, two work hosts (w1, w2) whose firewalls admit nothing
/// but the operators' SSH, an allowlisted client (adm) and a stranger. Everything runs inside the lab's namespaces
/// (the controller for fwctl, the hosts for the clients): no packet leaves them.
@Suite(.serialized) struct TunnelInstallTests {
    static let controller = "10.78.0.200"
    static let home = "10.78.0.10"

    static let inventory = """
        all:
          vars:
            ansible_user: ops
            ansible_become: true
            firewall: {target: iptables, default: drop, management: [\(controller)]}
            tunnels:
              - {name: svc, home: gw, work: [w1, w2], service: "127.0.0.1:22", client_port: 9001, control_port: 9000, allow: [admins]}
          children:
            admins: {hosts: {adm: {ansible_host: 10.78.0.5}}}
            outside: {hosts: {gw: {ansible_host: \(home)}, stranger: {ansible_host: 10.78.0.20}}}
            office: {hosts: {w1: {ansible_host: 10.78.0.31}, w2: {ansible_host: 10.78.0.32}}}
        """

    struct End: Decodable {
        var host: String
        var role: String
        var result: String
        var changed: [String]
        var pid: Int?
        var mode: String?
        var reason: String?
    }

    struct Tunnel: Decodable {
        var tunnel: String
        var ends: [End]
        var verified: Bool?
        var agentsConnected: Int?
        var probe: String?
        var reason: String?
    }

    final class Outputs: @unchecked Sendable {
        var texts: [String] = []
    }

    @Test func installRunsThroughTheTunnelIdempotentlyAndUninstallLeavesNothing() throws {
        try Integration.require(DeployLab.requirements + [.root, .command("ssh"), .command("nsenter"), .command("openssl")])
        let lab = "fti\(getpid())"
        let folder = try TemporaryFolder("fti-install", files: ["inventory.yml": Self.inventory])
        let outputs = Outputs()
        defer { _ = try? ExampleFleetTests.fwctl(["lab", "down", "--name", lab, "-q"], timeout: 60) }
        try run(outputs, ["lab", "up", "-i", folder.path("inventory.yml"), "--name", lab, "--controller", Self.controller])
        try run(outputs, ["lab", "run", "--name", lab, "--", RepoPaths.fwctl.path, "deploy", "--all", "--confirm-timeout", "10"])

        // The firewalls as the policy says: the work hosts admit nothing from the clients, home's client port only adm.
        #expect(try !connects(lab, from: "adm", to: "10.78.0.31", port: 22), "w1's firewall should drop adm")
        #expect(try !connects(lab, from: "stranger", to: Self.home, port: 9001), "gw's firewall should drop the stranger on 9001")

        // Binaries for another CPU are refused before anything is written on the host, with the reason.
        let foreign = try TemporaryFolder("fti-foreign")
        for program in ["fwtunnel-home", "fwtunnel-work"] {
            var bytes = try Data(contentsOf: RepoPaths.fwctl.deletingLastPathComponent().appendingPathComponent(program))
            bytes[18] = 183  // e_machine: aarch64 (x86_64 is 62)
            bytes[19] = 0
            try bytes.write(to: foreign.url.appendingPathComponent(program))
        }
        let refusedInstall = try ExampleFleetTests.fwctl(["lab", "run", "--name", lab, "--", RepoPaths.fwctl.path, "tunnel", "install", "--json",
                                                          "--tunnel-binaries", foreign.url.path])
        outputs.texts.append(refusedInstall.stdoutText + refusedInstall.stderrText)
        #expect(refusedInstall.status == 1, "\(refusedInstall.stderrText)")
        let refusal = try tunnels(refusedInstall).first
        #expect(refusal?.ends.first?.result == "refused" && refusal?.ends.first?.reason?.contains("built for aarch64") == true, "\(String(describing: refusal))")
        #expect(refusal?.ends.dropFirst().allSatisfy { $0.result == "skipped" } == true)
        #expect(try hostShell(lab, "gw", "ls -d /etc/fwtunnel /var/lib/fwtunnel /usr/local/bin/fwtunnel-home 2>/dev/null").stdoutText.isEmpty)

        // First install: every end started, every agent connected, the pool warm; a local copy of the secret kept.
        let saved = try TemporaryFolder("fti-secrets")
        let first = try install(outputs, lab, ["--save-secrets", saved.url.path])
        #expect(first.verified == true && first.agentsConnected == 2, "\(first)")
        #expect(first.probe == "answered", "the test connection through the tunnel got work's sshd banner: \(first)")
        #expect(first.ends.map(\.result) == ["started", "started", "started"], "\(first)")
        #expect(first.ends.allSatisfy { $0.mode == "supervisor" && $0.pid != nil && $0.changed.contains("binary") }, "\(first)")

        let savedSecret = try String(contentsOfFile: saved.path("svc.secret"), encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(try savedSecret == secret(lab, "gw") && secret(lab, "w1") == savedSecret)
        #expect((try FileManager.default.attributesOfItem(atPath: saved.path("svc.secret"))[.posixPermissions] as? Int) == 0o600)

        // The allowlisted client logs in to the service behind work through home's client port and runs a command.
        for _ in 0..<3 {
            let ssh = try sshThroughTunnel(lab, from: "adm", command: "echo tunnel-ok-$(hostname)")
            #expect(ssh.status == 0 && ["tunnel-ok-w1\n", "tunnel-ok-w2\n"].contains(ssh.stdoutText), "\(ssh.stdoutText) \(ssh.stderrText)")
            outputs.texts.append(ssh.stdoutText + ssh.stderrText)
        }
        // The stranger fails at the firewall; with home's firewall opened by hand, the tunnel itself refuses it.
        let dropped = try sshThroughTunnel(lab, from: "stranger", command: "true", connectTimeout: 3)
        #expect(dropped.status != 0 && dropped.stderrText.contains("timed out"), "\(dropped.stderrText)")
        try inHost(lab, "gw", ["iptables", "-I", "FWCTL-INPUT", "1", "-p", "tcp", "--dport", "9001", "-j", "ACCEPT"])
        let refusedBefore = try homeStatus(outputs, lab)?["refusedAllowlist"] as? Int ?? -1
        let refused = try sshThroughTunnel(lab, from: "stranger", command: "true", connectTimeout: 5)
        #expect(refused.status != 0 && !refused.stderrText.contains("timed out"), "\(refused.stderrText)")
        let refusedAfter = try homeStatus(outputs, lab)?["refusedAllowlist"] as? Int ?? -1
        #expect(refusedAfter == refusedBefore + 1, "the tunnel should have refused the stranger: \(refusedBefore) -> \(refusedAfter)")
        try inHost(lab, "gw", ["iptables", "-D", "FWCTL-INPUT", "-p", "tcp", "--dport", "9001", "-j", "ACCEPT"])

        // A second install changes nothing: every end unchanged, the same processes.
        let second = try install(outputs, lab)
        #expect(second.ends.map(\.result) == ["unchanged", "unchanged", "unchanged"], "\(second)")
        #expect(second.ends.map(\.pid) == first.ends.map(\.pid), "\(first.ends.map(\.pid)) -> \(second.ends.map(\.pid))")
        #expect(second.verified == true)

        // Two agents, one stopped: home forgets it and every client is served by the other.
        let w2Supervisor = try hostShell(lab, "w2", "cat /var/lib/fwtunnel/svc/work.supervisor.pid").stdoutText.trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(!w2Supervisor.isEmpty)
        try hostShell(lab, "w2", "kill -TERM -\(w2Supervisor)")
        var connected: [String] = []
        for _ in 0..<80 {
            connected = (try homeStatus(outputs, lab)?["agents"] as? [String]) ?? []
            if connected == ["w1"] { break }
            Thread.sleep(forTimeInterval: 0.25)
        }
        #expect(connected == ["w1"], "home should see only w1: \(connected)")
        for _ in 0..<4 {
            let ssh = try sshThroughTunnel(lab, from: "adm", command: "hostname")
            #expect(ssh.status == 0 && ssh.stdoutText == "w1\n", "\(ssh.stdoutText) \(ssh.stderrText)")
        }
        // Installing again starts the stopped end only.
        let repaired = try install(outputs, lab)
        #expect(repaired.ends.map(\.result) == ["unchanged", "unchanged", "started"], "\(repaired)")
        #expect(repaired.ends[0].pid == first.ends[0].pid && repaired.ends[1].pid == first.ends[1].pid)

        // --rotate-secret: a new secret everywhere, every end restarted with it, the tunnel still answers.
        let oldSecret = try secret(lab, "gw")
        let rotated = try install(outputs, lab, ["--rotate-secret"])
        #expect(rotated.ends.allSatisfy { $0.result == "restarted" && $0.changed.contains("secret") }, "\(rotated)")
        #expect(rotated.verified == true, "\(rotated)")
        let newSecret = try secret(lab, "gw")
        #expect(newSecret != oldSecret && newSecret.count == 64)
        #expect(try secret(lab, "w1") == newSecret && secret(lab, "w2") == newSecret)
        #expect(try hostShell(lab, "gw", "stat -c %a /etc/fwtunnel/svc/secret /etc/fwtunnel/svc/home.key").stdoutText == "600\n600\n")
        let ssh = try sshThroughTunnel(lab, from: "adm", command: "echo rotated")
        #expect(ssh.stdoutText == "rotated\n", "\(ssh.stderrText)")

        // No secret in any output or log: fwctl's stdout and stderr, the clients', the tunnel processes' logs.
        for host in ["gw", "w1", "w2"] {
            outputs.texts.append(try hostShell(lab, host, "cat /var/lib/fwtunnel/svc/*.log").stdoutText)
        }
        for secret in [oldSecret, newSecret] {
            for forbidden in [secret, Data((secret + "\n").utf8).base64EncodedString(), Data(secret.utf8).base64EncodedString()] {
                #expect(!outputs.texts.contains { $0.contains(forbidden) }, "a secret appeared in an output")
            }
        }

        // Status: every end up, home with both agents.
        let status = try run(outputs, ["lab", "run", "--name", lab, "--", RepoPaths.fwctl.path, "tunnel", "status", "--json"])
        let ends = try JSONSerialization.jsonObject(with: status.stdout) as? [[String: Any]] ?? []
        #expect(ends.count == 3 && ends.allSatisfy { $0["up"] as? Bool == true }, "\(status.stdoutText)")

        // Uninstall leaves nothing behind: no files, no processes; a second uninstall finds nothing.
        let removed = try tunnels(run(outputs, ["lab", "run", "--name", lab, "--", RepoPaths.fwctl.path, "tunnel", "uninstall", "--json"]))
        #expect(removed.first?.ends.allSatisfy { $0.result == "removed" && $0.changed.contains("process") && $0.changed.contains("binary") } == true, "\(removed)")
        for host in ["gw", "w1", "w2"] {
            let left = try hostShell(lab, host, #"ls -d /etc/fwtunnel /var/lib/fwtunnel /usr/local/bin/fwtunnel-home /usr/local/bin/fwtunnel-work /etc/systemd/system/fwtunnel-* 2>/dev/null; for p in /proc/[0-9]*; do [ "$(readlink $p/ns/net)" = "$(readlink /proc/self/ns/net)" ] || continue; case $(readlink $p/exe) in *fwtunnel*) echo $p;; esac; done"#)
            #expect(left.stdoutText.isEmpty, "\(host) still has: \(left.stdoutText)")
        }
        let again = try tunnels(run(outputs, ["lab", "run", "--name", lab, "--", RepoPaths.fwctl.path, "tunnel", "uninstall", "--json"]))
        #expect(again.first?.ends.allSatisfy { $0.result == "absent" } == true, "\(again)")
        let down = try ExampleFleetTests.fwctl(["lab", "run", "--name", lab, "--", RepoPaths.fwctl.path, "tunnel", "status"])
        #expect(down.status == 1, "status of an uninstalled tunnel: \(down.stdoutText) \(down.stderrText)")
    }

    // MARK: Helpers

    @discardableResult
    func run(_ outputs: Outputs, _ arguments: [String], sourceLocation: SourceLocation = #_sourceLocation) throws -> ProcessResult {
        let result = try ExampleFleetTests.fwctl(arguments, timeout: 180)
        outputs.texts.append(result.stdoutText + result.stderrText)
        #expect(result.status == 0, "fwctl \(arguments.joined(separator: " ")): \(result.stdoutText)\n\(result.stderrText)", sourceLocation: sourceLocation)
        return result
    }

    func tunnels(_ result: ProcessResult) throws -> [Tunnel] {
        try JSONDecoder().decode([Tunnel].self, from: result.stdout)
    }

    func install(_ outputs: Outputs, _ lab: String, _ extra: [String] = [], sourceLocation: SourceLocation = #_sourceLocation) throws -> Tunnel {
        let result = try run(outputs, ["lab", "run", "--name", lab, "--", RepoPaths.fwctl.path, "tunnel", "install", "--json"] + extra,
                             sourceLocation: sourceLocation)
        return try #require(try tunnels(result).first, sourceLocation: sourceLocation)
    }

    /// home's status (`fwctl tunnel status --json`): the connected agents and the service's refused count.
    func homeStatus(_ outputs: Outputs, _ lab: String) throws -> [String: Any]? {
        let result = try ExampleFleetTests.fwctl(["lab", "run", "--name", lab, "--", RepoPaths.fwctl.path, "tunnel", "status", "--json"])
        outputs.texts.append(result.stdoutText + result.stderrText)
        let ends = try JSONSerialization.jsonObject(with: result.stdout) as? [[String: Any]] ?? []
        guard let home = ends.first(where: { $0["role"] as? String == "home" })?["status"] as? [String: Any] else { return nil }
        let agents = (home["agents"] as? [String: [String: Any]] ?? [:]).filter { $0.value["connected"] as? Bool == true }.map(\.key).sorted()
        let service = (home["services"] as? [String: [String: Any]])?["svc"]
        return ["agents": agents, "refusedAllowlist": (service?["refusedAllowlist"] as? Int) ?? -1]
    }

    /// `ssh -p 9001 ops@gw COMMAND` from a lab host, with the lab's key; the host key is checked against both work
    /// hosts' keys (the connection lands on either).
    func sshThroughTunnel(_ lab: String, from client: String, command: String, connectTimeout: Int = 10) throws -> ProcessResult {
        let ssh = "/run/fwctl/lab/\(lab)/home/.ssh"
        let knownHosts = try String(contentsOfFile: "\(ssh)/known_hosts", encoding: .utf8).split(separator: "\n").compactMap { line -> String? in
            let fields = line.split(separator: " ", maxSplits: 1)
            let names = fields.first?.split(separator: ",") ?? []
            guard fields.count == 2, names.contains("10.78.0.31") || names.contains("10.78.0.32") else { return nil }
            return "[\(Self.home)]:9001 \(fields[1])"
        }.joined(separator: "\n") + "\n"
        let file = "/tmp/fti-known-\(getpid())"
        try knownHosts.write(toFile: file, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(atPath: file) }
        return try runProcess("/usr/bin/env", ["ip", "netns", "exec", "\(lab)-\(client)", "ssh", "-F", "/dev/null", "-i", "\(ssh)/id_ed25519",
                                              "-o", "UserKnownHostsFile=\(file)", "-o", "StrictHostKeyChecking=yes", "-o", "BatchMode=yes",
                                              "-o", "ConnectTimeout=\(connectTimeout)", "-p", "9001", "ops@\(Self.home)", command], timeout: 30)
    }

    func connects(_ lab: String, from client: String, to address: String, port: Int) throws -> Bool {
        try runProcess("/usr/bin/env", ["ip", "netns", "exec", "\(lab)-\(client)", "socat", "-T", "4", "-u",
                                        "TCP4:\(address):\(port),connect-timeout=3", "STDOUT"], timeout: 20).status == 0
    }

    @discardableResult
    func inHost(_ lab: String, _ host: String, _ arguments: [String]) throws -> ProcessResult {
        let result = try runProcess("/usr/bin/env", ["ip", "netns", "exec", "\(lab)-\(host)"] + arguments, timeout: 20)
        #expect(result.status == 0, "\(arguments): \(result.stderrText)")
        return result
    }

    /// A shell command inside the host's namespaces (its private /etc, /var, /usr/local), as root.
    @discardableResult
    func hostShell(_ lab: String, _ host: String, _ command: String) throws -> ProcessResult {
        return try runProcess("/usr/bin/env", ["PATH=/usr/sbin:/usr/bin:/sbin:/bin", "nsenter", "--target", try ExampleFleetTests.sshdPID(lab, host),
                                        "--mount", "--net", "--", "sh", "-c", command], timeout: 20)
    }

    func secret(_ lab: String, _ host: String) throws -> String {
        try hostShell(lab, host, "cat /etc/fwtunnel/svc/secret").stdoutText.trimmingCharacters(in: .whitespacesAndNewlines)
    }
}
