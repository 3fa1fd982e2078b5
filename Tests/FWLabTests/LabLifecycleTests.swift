import Foundation
import Testing
import TestSupport

/// `fwctl lab up/run/status/down` on a 12-host fleet, run as a user runs them.
@Suite(.serialized) struct LabLifecycleTests {
    /// Twelve hosts: IPv4 only, IPv6 only, dual-stack, one SSH on 2222; addresses from the documentation ranges.
    static func inventory(hosts: [String], d12Port: Int = 2222) -> String {
        var text = """
            all:
              vars:
                ansible_user: ops
                firewall:
                  management: [203.0.113.128/25]
              hosts:

            """
        for name in hosts {
            let number = Int(name.dropFirst(1))!
            switch name.first! {
            case "a": text += "    \(name): {ansible_host: 198.51.100.\(number)}\n"
            case "b": text += "    \(name): {ansible_host: \"2001:db8:77::\(number)\"}\n"
            case "c": text += "    \(name): {ansible_host: 192.0.2.\(number), fw_addresses: [\"2001:db8:78::\(number)\"]}\n"
            default: text += "    \(name): {ansible_host: 192.0.2.\(100 + number), ansible_port: \(name == "d12" ? d12Port : 2222)}\n"
            }
        }
        return text
    }

    static let twelve = ["a1", "a2", "a3", "a4", "b5", "b6", "b7", "c8", "c9", "c10", "d11", "d12"]

    @Test func upRunStatusReUpAndDownLeaveNothingBehind() throws {
        try Integration.require(LabSupport.requirements)
        let lab = LabSupport.labName("l")
        defer { LabSupport.cleanUp(lab) }
        let before = try LabSupport.traces(of: lab)
        #expect(before.isEmpty, "\(before)")
        let folder = try TemporaryFolder("fwctl-lab", files: ["hosts.yml": Self.inventory(hosts: Self.twelve)])
        defer { folder.remove() }
        let inventory = folder.path("hosts.yml")

        let up = try LabSupport.check(["lab", "up", "-i", inventory, "--name", lab])
        #expect(up.stdoutText.contains("12 hosts up"), "\(up.stdoutText)")
        #expect(up.stdoutText.contains("controller 203.0.113.129"), "the controller stands in the management network: \(up.stdoutText)")

        // `lab run` needs no options: known_hosts, key and inventory come from the lab.
        let ping = try LabSupport.check(["lab", "run", "--name", lab, "--", LabSupport.fwctl, "ping", "--json"])
        let rows = try #require(try JSONSerialization.jsonObject(with: ping.stdout) as? [[String: Any]])
        #expect(rows.count == 12)
        #expect(rows.allSatisfy { $0["ok"] as? Bool == true }, "\(ping.stdoutText)")
        #expect(rows.first { $0["host"] as? String == "d11" }?["port"] as? Int == 2222)

        // The login user has passwordless sudo; what it writes under /etc stays in its own host.
        let marker = "/etc/fwctl/lab-test-\(lab)"
        try LabSupport.check(["lab", "run", "--name", lab, "--", "ssh", "a1", "sudo -n mkdir -p /etc/fwctl && sudo -n touch \(marker) && id -un"])
        #expect(!FileManager.default.fileExists(atPath: marker), "the machine's /etc must not change")
        let other = try LabSupport.run(["lab", "run", "--name", lab, "--", "ssh", "b5", "test ! -e \(marker)"])
        #expect(other.status == 0, "another host must not see a1's file: \(other.stderrText)")
        let own = try LabSupport.run(["lab", "run", "--name", lab, "--", "ssh", "a1", "test -e \(marker)"])
        #expect(own.status == 0, "a1 keeps its own file: \(own.stderrText)")

        let status = try LabSupport.status(lab)
        let hosts = LabSupport.hosts(status)
        #expect(Set(hosts.keys) == Set(Self.twelve))
        #expect(hosts.values.allSatisfy { $0["sshdAnswering"] as? Bool == true && $0["user"] as? String == "ops" })
        #expect(hosts["b5"]?["addresses"] as? [String] == ["2001:db8:77::5"])
        #expect(hosts["c8"]?["addresses"] as? [String] == ["192.0.2.8", "2001:db8:78::8"])
        #expect(hosts["d12"]?["port"] as? Int == 2222)
        #expect((hosts["a1"]?["firewall"] as? [String: Any])?["kind"] as? String == "none")
        let pids = hosts.mapValues { $0["sshdPID"] as? Int ?? -1 }

        // Edit the inventory: two hosts go, one comes, one moves its sshd to another port; the others keep running.
        var edited = Self.twelve.filter { $0 != "a2" && $0 != "b6" }
        edited.append("c13")
        try Self.inventory(hosts: edited, d12Port: 2200).write(toFile: inventory, atomically: true, encoding: .utf8)
        let reUp = try LabSupport.check(["lab", "up", "-i", inventory, "--name", lab])
        #expect(reUp.stdoutText.contains("2 added, 2 removed, 9 unchanged"), "\(reUp.stdoutText)")
        let after = LabSupport.hosts(try LabSupport.status(lab))
        #expect(Set(after.keys) == Set(edited))
        #expect(after["d12"]?["port"] as? Int == 2200)
        for name in edited where name != "c13" && name != "d12" {
            #expect(after[name]?["sshdPID"] as? Int == pids[name], "\(name) must not have been restarted")
        }
        #expect(after["c13"]?["sshdAnswering"] as? Bool == true)
        let traces = try LabSupport.traces(of: lab)
        #expect(!traces.contains { $0.hasPrefix("netns \(lab)-a2") || $0.hasPrefix("netns \(lab)-b6") }, "\(traces)")
        let pingAgain = try LabSupport.check(["lab", "run", "--name", lab, "--", LabSupport.fwctl, "ping", "-q"])
        #expect(pingAgain.stdoutText.contains("c13"))

        // A host whose sshd died: status says so (exit 1), and `lab up` makes that host again, only that one.
        let victim = try #require(after["a3"]?["sshdPID"] as? Int)
        kill(pid_t(victim), SIGKILL)
        var dead = try LabSupport.run(["lab", "status", "--name", lab])
        for _ in 0..<50 where !dead.stdoutText.contains("not running") {
            usleep(20_000)
            dead = try LabSupport.run(["lab", "status", "--name", lab])
        }
        #expect(dead.status == 1 && dead.stdoutText.contains("not running") && dead.stderrText.contains("a3"), "\(dead.stdoutText)\(dead.stderrText)")
        let repaired = try LabSupport.check(["lab", "up", "-i", inventory, "--name", lab])
        #expect(repaired.stdoutText.contains("1 added, 0 removed, 10 unchanged"), "\(repaired.stdoutText)")
        try LabSupport.check(["lab", "run", "--name", lab, "--", "ssh", "a3", "true"])

        let down = try LabSupport.check(["lab", "down", "--name", lab])
        #expect(down.stdoutText.contains("11 hosts"), "\(down.stdoutText)")
        #expect(try LabSupport.traces(of: lab) == before)
        let again = try LabSupport.check(["lab", "down", "--name", lab])
        #expect(again.stdoutText.contains("nothing to remove"))
    }

    @Test func downRemovesEverythingAfterUpWasKilledHalfWay() throws {
        try Integration.require(LabSupport.requirements)
        let lab = LabSupport.labName("k")
        defer { LabSupport.cleanUp(lab) }
        let before = try LabSupport.traces(of: lab)
        let folder = try TemporaryFolder("fwctl-lab", files: ["hosts.yml": Self.inventory(hosts: Self.twelve)])
        defer { folder.remove() }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: LabSupport.fwctl)
        process.arguments = ["lab", "up", "-i", folder.path("hosts.yml"), "--name", lab, "-q"]
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        // Kill it once the host namespaces are there, before it finished (bounded wait).
        let deadline = Date().addingTimeInterval(20)
        while Date() < deadline && !FileManager.default.fileExists(atPath: "/run/netns/\(lab)-d12") { usleep(2_000) }
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
        let halfWay = try LabSupport.traces(of: lab)
        #expect(halfWay.contains("netns \(lab)-d12"), "up was killed after making its namespaces: \(halfWay)")
        try LabSupport.check(["lab", "down", "--name", lab])
        #expect(try LabSupport.traces(of: lab) == before)
    }

    @Test func twoLabsWithTheSameAddressesStandSideBySide() throws {
        try Integration.require(LabSupport.requirements)
        let first = LabSupport.labName("x"), second = LabSupport.labName("y")
        defer {
            LabSupport.cleanUp(first)
            LabSupport.cleanUp(second)
        }
        let folder = try TemporaryFolder("fwctl-lab", files: ["hosts.yml": Self.inventory(hosts: ["a1", "b2", "d3"])])
        defer { folder.remove() }
        try LabSupport.check(["lab", "up", "-i", folder.path("hosts.yml"), "--name", first, "-q"])
        try LabSupport.check(["lab", "up", "-i", folder.path("hosts.yml"), "--name", second, "-q"])
        for lab in [first, second] {
            try LabSupport.check(["lab", "run", "--name", lab, "--", LabSupport.fwctl, "ping", "-q"])
        }
        // Each lab has its own host keys, and its known_hosts holds only those.
        let firstKnown = try String(contentsOfFile: "/run/fwctl/lab/\(first)/home/.ssh/known_hosts", encoding: .utf8)
        let secondKnown = try String(contentsOfFile: "/run/fwctl/lab/\(second)/home/.ssh/known_hosts", encoding: .utf8)
        #expect(firstKnown.contains("a1,198.51.100.1 ssh-ed25519") && firstKnown != secondKnown)
        try LabSupport.check(["lab", "down", "--name", first, "-q"])
        #expect(try LabSupport.traces(of: first).isEmpty)
        try LabSupport.check(["lab", "run", "--name", second, "--", LabSupport.fwctl, "ping", "-q"])
        let status = LabSupport.hosts(try LabSupport.status(second))
        #expect(status.count == 3 && status.values.allSatisfy { $0["sshdAnswering"] as? Bool == true })
    }
}
