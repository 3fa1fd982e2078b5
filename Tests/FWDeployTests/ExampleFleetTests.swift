import Foundation
import Testing
import TestSupport

/// inventory/example as a `fwctl lab` (20 namespace hosts: iptables, nftables and ufw; the controller at the
/// office address the bastions admit), reached the way the inventory says: as `ops`, root by sudo, the 18 inner
/// hosts through bastion1/bastion2. `fwctl lab run -- fwctl ping --become` reaches all of them; `fwctl lab run --
/// fwctl deploy --all` deploys every host (bastions first), a second deploy finds every host unchanged, and `lab
/// probe --expect` agrees with the policy. Once the rules are loaded the controller can no longer connect to an
/// inner host directly, so the jumps are really used. diff, backups and rollback go the same way.
@Suite(.serialized) struct ExampleFleetTests {
    static let office = "203.0.113.200"
    static let inventory = RepoPaths.root.appendingPathComponent("inventory/example").path
    static let inner = ["web1", "web2", "web3", "web4", "web-v6", "app1", "app2", "app3", "app4", "db1", "db2", "db3",
                        "cache1", "cache2", "cache3", "mon1", "mon2", "mon3"]

    @Test func exampleFleetDeploysThroughTheBastionsWithSudo() throws {
        try Integration.require(DeployLab.requirements + [.root, .command("sudo"), .command("nsenter"), .command("bash")])
        let lab = Self.labName()
        defer { _ = try? Self.fwctl(["lab", "down", "--name", lab, "-q"], timeout: 60) }
        try Self.check(["lab", "up", "-i", Self.inventory, "--name", lab, "--controller", Self.office])

        // Before any rules: the controller reaches an inner host directly (the lab's network has no firewall).
        #expect(try Self.directConnect(lab, "192.0.2.21", 22), "before deploy the controller should reach app1 directly")

        // ping --become: all 20, the inner ones through the bastions, as ops, root by sudo.
        let ping = try Self.check(["lab", "run", "--name", lab, "--", RepoPaths.fwctl.path, "ping", "--become", "--json"])
        let rows = try Self.rows(ping.stdout)
        #expect(rows.count == 20, "\(ping.stdoutText)")
        for row in rows {
            let host = row["host"] as? String ?? "?"
            #expect(row["ok"] as? Bool == true, "\(host): \(row)")
            #expect(row["user"] as? String == "ops", "\(host): \(row)")
            #expect(row["runsAs"] as? String == "root", "\(host): \(row)")
            let via = row["via"] as? [String] ?? []
            if Self.inner.contains(host) {
                #expect(via.count == 1 && via[0].hasPrefix("bastion"), "\(host) should be reached through a bastion: \(row)")
            } else {
                #expect(via.isEmpty, "\(host) is reached directly: \(row)")
            }
        }

        // deploy --all through the bastions as ops with sudo.
        let first = try Self.fwctl(["lab", "run", "--name", lab, "--", RepoPaths.fwctl.path, "deploy", "--all", "--json",
                                    "--confirm-timeout", "10"], timeout: 120)
        #expect(first.status == 0, "deploy: \(first.stderrText)")
        let deployed = try Self.results(first.stdout)
        #expect(deployed.count == 20, "\(first.stdoutText)")
        for (host, result) in deployed { #expect(result == "deployed", "\(host): \(result)\n\(first.stdoutText)") }
        // In a lab host (a network namespace) the revert timer is the setsid one, under sudo as before.
        let timers = Set(try JSONDecoder().decode([Report].self, from: first.stdout).map { $0.timer ?? "none" })
        #expect(timers == ["setsid"], "\(timers)")

        // The state folder was made by root through sudo, not by the login user.
        let owner = try runProcess("/usr/bin/env", ["PATH=/usr/sbin:/usr/bin:/sbin:/bin", "nsenter", "--target", try Self.sshdPID(lab, "app1"),
                                                    "--mount", "--", "stat", "-c", "%U", "/var/lib/fwctl/history"])
        #expect(owner.stdoutText.trimmingCharacters(in: .whitespacesAndNewlines) == "root", "\(owner.stdoutText) \(owner.stderrText)")

        // The second deploy changes nothing.
        let second = try Self.fwctl(["lab", "run", "--name", lab, "--", RepoPaths.fwctl.path, "deploy", "--all", "--json"], timeout: 120)
        #expect(second.status == 0, "second deploy: \(second.stderrText)")
        let again = try Self.results(second.stdout)
        #expect(again.count == 20)
        for (host, result) in again { #expect(result == "unchanged", "\(host): \(result)") }

        // Who reaches whom agrees with the policy.
        let probe = try Self.fwctl(["lab", "probe", "--name", lab, "-i", Self.inventory, "--expect"], timeout: 120)
        #expect(probe.status == 0, "probe --expect: \(probe.stdoutText)\n\(probe.stderrText)")

        // Now the inner hosts' firewalls refuse the controller: only the bastions' path gets in.
        #expect(try !Self.directConnect(lab, "192.0.2.21", 22), "app1's firewall should refuse the controller")
        #expect(try !Self.directConnect(lab, "198.51.100.11", 22), "web1's firewall should refuse the controller")
        #expect(try Self.directConnect(lab, "203.0.113.10", 2222), "bastion1 admits the office")

        // diff, backups and rollback take the same path (jumps, sudo).
        let noDrift = try Self.fwctl(["lab", "run", "--name", lab, "--", RepoPaths.fwctl.path, "diff", "--all"], timeout: 60)
        #expect(noDrift.status == 0, "diff after deploy: \(noDrift.stdoutText)\n\(noDrift.stderrText)")
        let backups = try Self.check(["lab", "run", "--name", lab, "--", RepoPaths.fwctl.path, "backups", "--limit", "app1,cache1", "--json"])
        let listed = try JSONSerialization.jsonObject(with: backups.stdout) as? [[String: Any]] ?? []
        #expect(listed.count == 2 && listed.allSatisfy { ($0["generations"] as? [Any])?.count == 1 }, "\(backups.stdoutText)")
        let rollback = try Self.fwctl(["lab", "run", "--name", lab, "--", RepoPaths.fwctl.path, "rollback", "--limit", "web1,app1,cache1",
                                       "--json", "--confirm-timeout", "10"], timeout: 60)
        #expect(rollback.status == 0, "rollback: \(rollback.stderrText)")
        let restored = try Self.results(rollback.stdout)
        #expect(restored == ["web1": "restored", "app1": "restored", "cache1": "restored"], "\(rollback.stdoutText)")
        // Back on the rules from before the deploy (none): the controller gets in directly again, and diff sees it.
        #expect(try Self.directConnect(lab, "192.0.2.21", 22), "after the rollback app1 should admit the controller again")
        let drift = try Self.fwctl(["lab", "run", "--name", lab, "--", RepoPaths.fwctl.path, "diff", "--limit", "web1,app1,cache1,db1"], timeout: 60)
        #expect(drift.status == 1, "diff after rollback: \(drift.stdoutText)\n\(drift.stderrText)")
    }

    // MARK: Helpers

    /// `t`, this process id, a letter: LabSupport's convention, so stale labs of dead test processes are found.
    static func labName() -> String { "t\(getpid())w" }

    static func fwctl(_ arguments: [String], timeout: TimeInterval = 120) throws -> ProcessResult {
        var environment = ProcessInfo.processInfo.environment
        environment["FWCTL_INVENTORY"] = nil
        environment["FWCTL_BECOME_PASSWORD"] = nil
        environment["FWCTL_TEMPLATES"] = RepoPaths.root.appendingPathComponent("templates").path
        environment["NO_COLOR"] = "1"
        return try runProcess(RepoPaths.fwctl.path, arguments, environment: environment, timeout: timeout)
    }

    @discardableResult
    static func check(_ arguments: [String], sourceLocation: SourceLocation = #_sourceLocation) throws -> ProcessResult {
        let result = try fwctl(arguments)
        #expect(result.status == 0, "fwctl \(arguments.joined(separator: " ")): \(result.stderrText)", sourceLocation: sourceLocation)
        return result
    }

    /// A TCP connect from the lab's controller namespace (bounded: 3 s).
    static func directConnect(_ lab: String, _ address: String, _ port: Int) throws -> Bool {
        let result = try fwctl(["lab", "run", "--name", lab, "--", "timeout", "3", "bash", "-c", "exec 3<>/dev/tcp/\(address)/\(port)"], timeout: 20)
        return result.status == 0
    }

    static func sshdPID(_ lab: String, _ host: String) throws -> String {
        let status = try fwctl(["lab", "status", "--name", lab, "--json"])
        let object = try JSONSerialization.jsonObject(with: status.stdout) as? [String: Any]
        let hosts = object?["hosts"] as? [[String: Any]] ?? []
        let pid = hosts.first { $0["host"] as? String == host }?["sshdPID"] as? Int
        return String(try #require(pid, "no sshd pid for \(host): \(status.stdoutText)"))
    }

    static func rows(_ json: Data) throws -> [[String: Any]] {
        let object = try JSONSerialization.jsonObject(with: json)
        if let rows = object as? [[String: Any]] { return rows }
        return (object as? [String: Any])?["hosts"] as? [[String: Any]] ?? []
    }

    static func results(_ json: Data) throws -> [String: String] {
        let reports = try JSONDecoder().decode([Report].self, from: json)
        return Dictionary(reports.map { ($0.host, $0.result) }, uniquingKeysWith: { first, _ in first })
    }
}
