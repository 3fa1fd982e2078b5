import Foundation
import Testing
import TestSupport

/// `fwctl deploy`, `diff`, `rollback` and `backups` against namespace hosts with real sshd and real netfilter.
@Suite(.serialized) struct DeployTests {
    static let fleet: [DeployLab.HostSpec] = [
        .init(name: "ipt1", number: 11, target: "iptables"), .init(name: "ipt2", number: 12, target: "iptables"),
        .init(name: "nft1", number: 21, target: "nftables"), .init(name: "nft2", number: 22, target: "nftables"),
        .init(name: "ufw1", number: 31, target: "ufw"), .init(name: "ufw2", number: 32, target: "ufw"),
    ]

    @Test func deployAllTargetsThenUnchangedThenDriftDiffRollbackAndBackups() throws {
        try Integration.require(DeployLab.requirements)
        let lab = try DeployLab(Self.fleet)
        defer { lab.shutdown() }
        let outsider = try lab.lab.network.addHost("out", ipv4: "\(lab.lab.subnet).50/24")
        for spec in Self.fleet { try lab.listen(spec.name, port: 80); try lab.listen(spec.name, port: 8081) }

        let (first, reports) = try lab.reports("deploy", ["--all"])
        #expect(first.status == 0, "\(first.stderrText)")
        #expect(reports.count == 6)
        for spec in Self.fleet {
            let report = try #require(reports[spec.name])
            #expect(report.result == "deployed", "\(spec.name): \(report.reason ?? "")")
            #expect(report.generation == 1)
            #expect(report.timer == "setsid", "a lab host is a network namespace: systemd-run would restore the wrong one")
            #expect(try lab.pendingCookies(spec.name).isEmpty, "\(spec.name): the timer was cancelled")
            #expect(try lab.lab.revertTimers(try lab.host(spec.name)).isEmpty)
        }
        // Live rules of each kind, and the probe matrix: port 80 from anywhere, 8081 from nowhere, SSH from the
        // controller only.
        #expect(try lab.inHost("ipt1", ["iptables", "-S", "FWCTL-INPUT"]).stdoutText.contains("--dport 80"))
        #expect(try lab.inHost("ipt1", ["iptables", "-S", "INPUT"]).stdoutText.contains("-P INPUT DROP"))
        #expect(try lab.inHost("nft1", ["nft", "list", "table", "inet", "fwctl"]).stdoutText.contains("tcp dport 80 accept"))
        #expect(try lab.inHost("ufw1", ["iptables", "-S", "ufw-user-input"]).stdoutText.contains("--dport 80"))
        for spec in Self.fleet {
            let address = "\(lab.lab.subnet).\(spec.number)"
            let dump = (try? lab.inHost(spec.name, ["iptables-save"]).stdoutText) ?? ""
            #expect(try lab.reaches(address, port: 80, from: outsider), "\(spec.name):80 is public: \(dump)")
            #expect(try lab.blocked(address, port: 8081, from: outsider), "\(spec.name):8081 is closed")
            #expect(try lab.blocked(address, port: 8081), "\(spec.name):8081 is closed to the controller too")
            let ssh = try lab.lab.network.run(outsider, ["socat", "-T", "2", "-u", "TCP4:\(address):22,connect-timeout=1", "STDOUT"], timeout: 10)
            #expect(ssh.status != 0, "\(spec.name): SSH only from the management group")
        }
        // Persisted where the distribution looks, in the host's own /etc.
        #expect(FileManager.default.fileExists(atPath: try lab.host("ipt1").etc + "/iptables/rules.v4"))
        #expect(FileManager.default.fileExists(atPath: try lab.host("ipt1").etc + "/iptables/rules.v6"))
        #expect(FileManager.default.fileExists(atPath: try lab.host("nft1").etc + "/nftables.d/fwctl.nft"))
        let nftablesConf = try String(contentsOfFile: try lab.host("nft1").etc + "/nftables.conf", encoding: .utf8)
        #expect(nftablesConf.contains("include \"/etc/nftables.d/fwctl.nft\""))
        #expect(nftablesConf.contains("flush ruleset"), "the system config is kept, with fwctl's file included after it")

        // A second deploy touches nothing.
        let (second, again) = try lab.reports("deploy", ["--all"])
        #expect(second.status == 0, "\(second.stderrText)")
        #expect(again.values.allSatisfy { $0.result == "unchanged" }, "\(again.values.map { "\($0.host): \($0.result)" })")
        #expect(try lab.generations("ipt1").count == 1, "an unchanged host gets no new backup")

        // Drift: a rule added by hand shows in diff (exit 1); a clean host does not.
        #expect(try lab.fwctl("diff", ["--all"]).status == 0)
        try lab.inHost("ipt1", ["iptables", "-A", "FWCTL-INPUT", "-p", "tcp", "--dport", "9999", "-j", "ACCEPT"])
        try lab.inHost("nft1", ["nft", "add", "rule", "inet", "fwctl", "input", "tcp", "dport", "7777", "accept"])
        let diff = try lab.fwctl("diff", ["--all"])
        #expect(diff.status == 1)
        #expect(diff.stdoutText.contains("# ipt1\n"), "\(diff.stdoutText)")
        #expect(diff.stdoutText.contains("--A FWCTL-INPUT -p tcp -m tcp --dport 9999 -j ACCEPT"), "\(diff.stdoutText)")
        #expect(diff.stdoutText.contains("-\t\ttcp dport 7777 accept"), "\(diff.stdoutText)")
        #expect(!diff.stdoutText.contains("# ufw1"), "\(diff.stdoutText)")

        // Redeploy replaces the drift (generation 2 holds it); rollback --to 2 brings it back, with the same safety.
        let (third, fixed) = try lab.reports("deploy", ["--limit", "ipt1"])
        #expect(third.status == 0, "\(third.stderrText)")
        #expect(fixed["ipt1"]?.generation == 2)
        #expect(!(try lab.inHost("ipt1", ["iptables", "-S", "FWCTL-INPUT"]).stdoutText.contains("9999")))
        let (rolled, back) = try lab.reports("rollback", ["--limit", "ipt1", "--to", "2"])
        #expect(rolled.status == 0, "\(rolled.stderrText)")
        #expect(back["ipt1"]?.result == "restored")
        #expect(back["ipt1"]?.restoredGeneration == 2)
        #expect(try lab.inHost("ipt1", ["iptables", "-S", "FWCTL-INPUT"]).stdoutText.contains("--dport 9999"))
        #expect(try lab.inHost("ipt1", ["iptables", "-S", "INPUT"]).stdoutText.components(separatedBy: "-j FWCTL-INPUT").count == 2,
                "the hook is there exactly once")

        // backups lists the generations, newest first.
        let listed = try lab.fwctl("backups", ["--limit", "ipt1"])
        #expect(listed.status == 0, "\(listed.stderrText)")
        let rows = listed.stdoutText.split(separator: "\n").dropFirst().map { $0.split(separator: " ", omittingEmptySubsequences: true) }
        #expect(rows.map { String($0[1]) } == ["3", "2", "1"], "\(listed.stdoutText)")
        #expect(rows.first.map { String($0.last!) } == "rollback")

        // The audit log has a line per host and run that changed something or tried to.
        let audit = try String(contentsOfFile: lab.lab.folder.path("audit.jsonl"), encoding: .utf8)
        let lines = audit.split(separator: "\n")
        #expect(lines.count == 6 + 6 + 1 + 1, "deploy, deploy, deploy --limit, rollback")
        #expect(lines.last?.contains("\"action\":\"rollback\"") == true)
    }

    @Test func aLockoutIsRolledBackByItsTimerAndADownHostFailsAlone() throws {
        try Integration.require(DeployLab.requirements)
        // Management from an address that is not the controller: the confirming connection cannot get in.
        let lab = try DeployLab([
            .init(name: "ipt1", number: 11, target: "iptables", management: "[\(SSHHostLabSubnet.value).99]"),
            .init(name: "nft1", number: 21, target: "nftables", management: "[\(SSHHostLabSubnet.value).99]"),
            .init(name: "ufw1", number: 31, target: "ufw"),
            .init(name: "down1", number: 41, target: "iptables", sshd: false),
        ])
        defer { lab.shutdown() }
        let before = try lab.liveRules("ipt1", target: "iptables")
        let beforeNft = try lab.liveRules("nft1", target: "nftables")
        let (result, reports) = try lab.reports("deploy", ["--all", "--confirm-timeout", "4"])
        #expect(result.status == 1)
        for name in ["ipt1", "nft1"] {
            let report = try #require(reports[name])
            #expect(report.result == "rolled back", "\(name): \(report.result) \(report.reason ?? "")")
            #expect(report.reason?.contains("lockout") == true, "\(report.reason ?? "")")
            #expect(try lab.pendingCookies(name).isEmpty)
            #expect(try lab.lab.revertTimers(try lab.host(name)).isEmpty)
        }
        #expect(try lab.liveRules("ipt1", target: "iptables") == before, "the timer restored the previous rules")
        #expect(try lab.liveRules("nft1", target: "nftables") == beforeNft)
        #expect(reports["ufw1"]?.result == "deployed", "\(reports["ufw1"]?.reason ?? "")")
        #expect(reports["down1"]?.result == "failed")
        #expect(reports["down1"]?.reason?.contains("unreachable") == true, "\(reports["down1"]?.reason ?? "")")
        // The host answers afterwards, and nothing was persisted for it.
        let ping = try lab.lab.fwctl(["ping", "-i", lab.inventoryPath, "--known-hosts", lab.lab.knownHosts, "--limit", "ipt1:nft1"])
        #expect(ping.status == 0, "\(ping.stderrText)")
        #expect(!FileManager.default.fileExists(atPath: try lab.host("ipt1").etc + "/iptables/rules.v4"))
        let history = try String(contentsOfFile: try lab.state("ipt1") + "/history", encoding: .utf8)
        #expect(history.contains("action=revert") && history.contains("result=restored"), "\(history)")
    }

    @Test(arguments: ["iptables", "nftables", "ufw"])
    func rulesTheHostRejectsLeaveItUntouched(target: String) throws {
        try Integration.require(DeployLab.requirements)
        let lab = try DeployLab([.init(name: "h1", number: 11, target: target)])
        defer { lab.shutdown() }
        // Templates that render a rule the kernel's tools reject (fwctl's own checks cannot see it).
        let templates = lab.lab.folder.path("templates")
        try FileManager.default.copyItem(atPath: RepoPaths.root.appendingPathComponent("templates").path, toPath: templates)
        let (file, from, to): (String, String, String) = switch target {
        case "iptables": ("iptables/rule.mustache", "-j ACCEPT", "-m nosuchmatch -j ACCEPT")
        case "nftables": ("nftables/rule.mustache", "accept{{#comment}}", "nosuchverdict{{#comment}}")
        default: ("ufw/user.rules.mustache", "-j ACCEPT", "-m nosuchmatch -j ACCEPT")
        }
        let path = "\(templates)/\(file)"
        let text = try String(contentsOfFile: path, encoding: .utf8)
        #expect(text.contains(from))
        try text.replacingOccurrences(of: from, with: to).write(toFile: path, atomically: true, encoding: .utf8)
        let before = try lab.liveRules("h1", target: target)
        let result = try lab.lab.fwctl(["deploy", "-i", lab.inventoryPath, "--known-hosts", lab.lab.knownHosts,
                                        "--templates", templates, "--all", "--json"])
        #expect(result.status == 1)
        let report = try #require(try JSONDecoder().decode([Report].self, from: result.stdout).first)
        #expect(report.result == "refused", "\(report.result): \(report.reason ?? "") \(report.detail ?? "")")
        #expect(report.reason?.contains("rejected") == true, "\(report.reason ?? "")")
        #expect(try lab.liveRules("h1", target: target) == before)
        #expect(try lab.generations("h1").isEmpty, "nothing backed up, nothing applied")
        #expect(try lab.pendingCookies("h1").isEmpty)
    }
}

/// The subnet SSHHostLab uses by default (for policies that name an address in it).
enum SSHHostLabSubnet {
    static let value = "10.61.0"
}

/// Hosts fwctl must refuse, or must put back, with nothing half-done.
@Suite(.serialized) struct RefusalTests {
    @Test func aHostWhoseOtherIptablesBackendHoldsRulesIsRefused() throws {
        try Integration.require(DeployLab.requirements + [.command("iptables-legacy")])
        let lab = try DeployLab([.init(name: "ipt1", number: 11, target: "iptables")])
        defer { lab.shutdown() }
        try lab.inHost("ipt1", ["iptables-legacy", "-A", "INPUT", "-p", "tcp", "--dport", "3306", "-j", "ACCEPT"])
        let before = try lab.liveRules("ipt1", target: "iptables")
        let (result, reports) = try lab.reports("deploy", ["--all"])
        #expect(result.status == 1)
        #expect(reports["ipt1"]?.result == "refused")
        #expect(reports["ipt1"]?.reason?.contains("(iptables-legacy-save) holds 1 rule(s)") == true, "\(reports["ipt1"]?.reason ?? "")")
        #expect(try lab.liveRules("ipt1", target: "iptables") == before)
        #expect(try lab.generations("ipt1").isEmpty)
    }

    @Test func missingProgramsAreNamedWithTheirDebianPackage() throws {
        try Integration.require(DeployLab.requirements)
        let lab = try DeployLab([
            .init(name: "nft1", number: 21, target: "nftables", hiding: ["nft"]),
            .init(name: "ufw1", number: 31, target: "ufw", hiding: ["ufw"]),
        ])
        defer { lab.shutdown() }
        let (result, reports) = try lab.reports("deploy", ["--all"])
        #expect(result.status == 1)
        #expect(reports["nft1"]?.result == "refused")
        #expect(reports["nft1"]?.reason == "missing on the host: nft (Debian package nftables); install with: apt-get install nftables",
                "\(reports["nft1"]?.reason ?? "")")
        #expect(reports["ufw1"]?.result == "refused")
        #expect(reports["ufw1"]?.reason?.contains("ufw (Debian package ufw)") == true, "\(reports["ufw1"]?.reason ?? "")")
        #expect(result.stderrText.contains("apt-get install nftables"), "the reason reaches the user")
        #expect(try lab.generations("nft1").isEmpty)
    }

    @Test func aFailedPersistPutsThePreviousRulesBack() throws {
        try Integration.require(DeployLab.requirements)
        let lab = try DeployLab([.init(name: "ipt1", number: 11, target: "iptables")])
        defer { lab.shutdown() }
        // /etc/iptables cannot be created: a plain file is in its way (in the host's own /etc overlay).
        try Data().write(to: URL(fileURLWithPath: try lab.host("ipt1").etc + "/iptables"))
        let before = try lab.liveRules("ipt1", target: "iptables")
        let (result, reports) = try lab.reports("deploy", ["--all"])
        #expect(result.status == 1)
        #expect(reports["ipt1"]?.result == "failed, restored", "\(reports["ipt1"]?.result ?? "") \(reports["ipt1"]?.reason ?? "")")
        #expect(reports["ipt1"]?.reason?.contains("next boot") == true)
        #expect(try lab.liveRules("ipt1", target: "iptables") == before)
        #expect(try lab.pendingCookies("ipt1").isEmpty)
    }
}

/// The on-host scripts' bookkeeping across many runs and after a crash or a reboot, on one namespace host.
@Suite(.serialized) struct DeployBookkeepingTests {
    /// Generations are numbered with leading zeros (0008). The next one is counted in decimal: the shell's own
    /// arithmetic reads 0008 as an octal number it cannot parse, which stopped every deploy and rollback after the
    /// eighth generation.
    @Test func generationsCountOnPastTheEighth() throws {
        try Integration.require(DeployLab.requirements)
        let lab = try DeployLab([.init(name: "ipt1", number: 11, target: "iptables")])
        defer { lab.shutdown() }
        let (first, deployed) = try lab.reports("deploy", ["--all"])
        #expect(first.status == 0, "\(first.stderrText)")
        #expect(deployed["ipt1"]?.generation == 1)
        // Generations 2 to 8 as seven more runs would have left them: copies of the first.
        let backups = try lab.state("ipt1") + "/backups"
        let one = try #require(try lab.generations("ipt1").first)
        for n in 2...8 {
            try FileManager.default.copyItem(atPath: "\(backups)/\(one)", toPath: "\(backups)/\(String(format: "%04d", n))\(one.dropFirst(4))")
        }
        // Something to replace: a rule added by hand.
        try lab.inHost("ipt1", ["iptables", "-A", "FWCTL-INPUT", "-p", "tcp", "--dport", "9999", "-j", "ACCEPT"])
        let (ninth, again) = try lab.reports("deploy", ["--all"])
        #expect(ninth.status == 0, "\(ninth.stderrText)")
        #expect(again["ipt1"]?.result == "deployed", "\(again["ipt1"]?.result ?? "") \(again["ipt1"]?.reason ?? "")")
        #expect(again["ipt1"]?.generation == 9)
        let (rolled, back) = try lab.reports("rollback", ["--limit", "ipt1", "--to", "9"])
        #expect(rolled.status == 0, "\(rolled.stderrText)")
        #expect(back["ipt1"]?.generation == 10, "the rollback is a generation too")
        #expect(try lab.inHost("ipt1", ["iptables", "-S", "FWCTL-INPUT"]).stdoutText.contains("--dport 9999"), "generation 9 held the hand-made rule")
    }

    /// The files for the next boot change together or not at all: when the IPv6 file cannot be written, the IPv4
    /// file is not left new beside it (the live rules go back to the previous ones, as for any failed persist).
    @Test func aPersistFailingHalfWayLeavesEveryBootFileAsItWas() throws {
        try Integration.require(DeployLab.requirements)
        let lab = try DeployLab([.init(name: "ipt1", number: 11, target: "iptables")])
        defer { lab.shutdown() }
        let etc = try lab.host("ipt1").etc + "/iptables"
        try FileManager.default.createDirectory(atPath: etc, withIntermediateDirectories: true)
        let old = "*filter\n:INPUT ACCEPT [0:0]\nCOMMIT\n"
        try old.write(toFile: etc + "/rules.v4", atomically: true, encoding: .utf8)
        try old.write(toFile: etc + "/rules.v6", atomically: true, encoding: .utf8)
        // The IPv6 file's temporary name is taken by a folder: writing it fails, after the IPv4 file was written.
        try FileManager.default.createDirectory(atPath: etc + "/.rules.v6.fwctl-tmp", withIntermediateDirectories: false)
        let before = try lab.liveRules("ipt1", target: "iptables")
        let (result, reports) = try lab.reports("deploy", ["--all"])
        #expect(result.status == 1)
        #expect(reports["ipt1"]?.result == "failed, restored", "\(reports["ipt1"]?.result ?? "") \(reports["ipt1"]?.reason ?? "")")
        #expect(try String(contentsOfFile: etc + "/rules.v4", encoding: .utf8) == old, "the IPv4 boot file is the old one")
        #expect(try String(contentsOfFile: etc + "/rules.v6", encoding: .utf8) == old)
        #expect(!FileManager.default.fileExists(atPath: etc + "/.rules.v4.fwctl-tmp"), "nothing staged is left behind")
        #expect(try lab.liveRules("ipt1", target: "iptables") == before)
    }

    /// The boot file keeps what an operator saved in it (a nat table, a FORWARD rule, their own INPUT rule): fwctl
    /// replaces only its own lines there, and the result loads; a second deploy leaves one copy of everything.
    @Test func theBootFileKeepsWhatTheOperatorSavedThere() throws {
        try Integration.require(DeployLab.requirements)
        let lab = try DeployLab([.init(name: "ipt1", number: 11, target: "iptables")])
        defer { lab.shutdown() }
        let etc = try lab.host("ipt1").etc + "/iptables"
        try FileManager.default.createDirectory(atPath: etc, withIntermediateDirectories: true)
        let saved = """
            # Generated by iptables-save v1.8.9
            *nat
            :PREROUTING ACCEPT [0:0]
            :POSTROUTING ACCEPT [0:0]
            -A POSTROUTING -s 10.99.0.0/16 -o eth0 -j MASQUERADE
            COMMIT
            *filter
            :INPUT ACCEPT [0:0]
            :FORWARD DROP [0:0]
            :OUTPUT ACCEPT [0:0]
            :FWCTL-INPUT - [0:0]
            :f2b-sshd - [0:0]
            [7:420] -A INPUT -p tcp -m multiport --dports 22 -j f2b-sshd
            -A INPUT -s 10.98.0.0/16 -p udp -m udp --dport 514 -j ACCEPT
            [9:540] -A INPUT -j FWCTL-INPUT
            -A INPUT -j LOG
            -A INPUT -j DROP
            [3:180] -A FWCTL-INPUT -p tcp -m tcp --dport 8080 -j ACCEPT
            -A FORWARD -i eth1 -j ACCEPT
            -A f2b-sshd -j RETURN
            COMMIT

            """
        try saved.write(toFile: etc + "/rules.v4", atomically: true, encoding: .utf8)
        for run in 1...2 {
            if run == 2 { try lab.inHost("ipt1", ["iptables", "-A", "FWCTL-INPUT", "-p", "tcp", "--dport", "9999", "-j", "ACCEPT"]) }
            let (result, reports) = try lab.reports("deploy", ["--all"])
            #expect(result.status == 0, "\(result.stderrText)")
            #expect(reports["ipt1"]?.result == "deployed", "run \(run): \(reports["ipt1"]?.result ?? "") \(reports["ipt1"]?.reason ?? "")")
        }
        let boot = try String(contentsOfFile: etc + "/rules.v4", encoding: .utf8)
        let lines = boot.split(separator: "\n").map(String.init)
        for kept in ["-A POSTROUTING -s 10.99.0.0/16 -o eth0 -j MASQUERADE", "-A FORWARD -i eth1 -j ACCEPT", ":FORWARD DROP [0:0]",
                     "-A INPUT -s 10.98.0.0/16 -p udp -m udp --dport 514 -j ACCEPT"] {
            #expect(lines.filter { $0 == kept }.count == 1, "\(kept) once in:\n\(boot)")
        }
        #expect(lines.filter { $0 == "-A INPUT -j FWCTL-INPUT" }.count == 1, "\(boot)")
        #expect(lines.filter { $0.hasPrefix(":INPUT ") } == [":INPUT DROP [0:0]"], "fwctl's INPUT policy: \(boot)")
        #expect(lines.contains { $0.hasPrefix("-A FWCTL-INPUT") && $0.contains("--dport 22") })
        #expect(!boot.contains("9999"), "the hand-made rule deploy replaced is not at boot either")
        #expect(!boot.contains("8080"), "fwctl's old rules, saved with their counters, are replaced")
        #expect(!lines.contains { !$0.hasPrefix("#") && $0.contains("f2b-") }, "fail2ban makes its chains again when it starts")
        let hook = lines.firstIndex(of: "-A INPUT -j FWCTL-INPUT"), drop = lines.firstIndex(of: "-A INPUT -j DROP")
        #expect(hook != nil && drop != nil && hook! < drop!, "the hook keeps its place before the operator's DROP:\n\(boot)")
        #expect(try lab.inHost("ipt1", ["iptables-restore", "--test", etc + "/rules.v4"]).status == 0, "the boot file loads")
    }

    /// A timer's pid file that outlived its timer (a reboot) may name a process that has nothing to do with fwctl:
    /// that process neither keeps the host from new runs nor is signalled.
    @Test func aStaleTimerWhoseNumberIsAnotherProcessIsNotWaitedFor() throws {
        try Integration.require(DeployLab.requirements)
        let lab = try DeployLab([.init(name: "ipt1", number: 11, target: "iptables")])
        defer { lab.shutdown() }
        let other = try lab.lab.network.spawn(try lab.host("ipt1").lab, ["sleep", "120"])
        defer { other.terminate(); other.waitUntilExit() }
        let pending = try lab.state("ipt1") + "/pending"
        try FileManager.default.createDirectory(atPath: pending, withIntermediateDirectories: true)
        try "0001-20261201T000000Z\n".write(toFile: pending + "/oldrun", atomically: true, encoding: .utf8)
        try "\(other.processIdentifier)\n".write(toFile: pending + "/oldrun.pid", atomically: true, encoding: .utf8)
        let (result, reports) = try lab.reports("deploy", ["--all"])
        #expect(result.status == 0, "\(result.stderrText)")
        #expect(reports["ipt1"]?.result == "deployed", "\(reports["ipt1"]?.result ?? "") \(reports["ipt1"]?.reason ?? "")")
        #expect(!FileManager.default.fileExists(atPath: pending + "/oldrun"), "the stale cookie is gone")
        #expect(other.isRunning, "the process that got the old number was left alone")
    }
}
