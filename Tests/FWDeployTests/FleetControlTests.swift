import Foundation
import Testing
import TestSupport

/// Killed connections, canary, max-fail and Ctrl-C: fwctl never leaves a host half-configured or a timer armed.
@Suite(.serialized) struct FleetControlTests {
    /// A copy of the templates whose apply script waits `seconds` after applying, before it reports: a window
    /// in which the test can kill the connection, or interrupt fwctl, with the new rules live and the timer armed.
    static func slowTemplates(in lab: DeployLab, seconds: Int) throws -> String {
        let templates = lab.lab.folder.path("templates-slow")
        try FileManager.default.copyItem(atPath: RepoPaths.root.appendingPathComponent("templates").path, toPath: templates)
        let path = "\(templates)/deploy/apply.sh.mustache"
        let text = try String(contentsOfFile: path, encoding: .utf8)
        let marker = "fw_step apply\nfw_say \"result=applied\""
        #expect(text.contains(marker))
        try text.replacingOccurrences(of: marker, with: "fw_step apply\nsleep \(seconds)\nfw_say \"result=applied\"")
            .write(toFile: path, atomically: true, encoding: .utf8)
        return templates
    }

    /// Starts fwctl in the controller namespace; stdout and stderr go to files in the lab folder.
    static func start(_ lab: DeployLab, _ arguments: [String], name: String) throws -> Process {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = [NetworkLab.path, "ip", "netns", "exec", lab.lab.controller.namespace] + lab.lab.fwctlCommand(arguments)
        FileManager.default.createFile(atPath: lab.lab.folder.path("\(name).out"), contents: nil)
        FileManager.default.createFile(atPath: lab.lab.folder.path("\(name).err"), contents: nil)
        process.standardOutput = try FileHandle(forWritingTo: URL(fileURLWithPath: lab.lab.folder.path("\(name).out")))
        process.standardError = try FileHandle(forWritingTo: URL(fileURLWithPath: lab.lab.folder.path("\(name).err")))
        process.standardInput = FileHandle.nullDevice
        try process.run()
        return process
    }

    /// Waits (bounded) for `condition`.
    static func wait(seconds: Double, _ what: String, _ condition: () throws -> Bool) throws {
        let until = Date().addingTimeInterval(seconds)
        while Date() < until {
            if try condition() { return }
            usleep(20_000)
        }
        throw WaitTimedOut(what: what)
    }

    static func finish(_ process: Process, seconds: Double = 120) throws {
        try wait(seconds: seconds, "fwctl to exit") { !process.isRunning }
    }

    @Test func aConnectionKilledBetweenApplyAndConfirmEndsWithTheTimerRestoring() throws {
        try Integration.require(DeployLab.requirements)
        let lab = try DeployLab([.init(name: "ipt1", number: 11, target: "iptables"), .init(name: "nft1", number: 21, target: "nftables")])
        defer { lab.shutdown() }
        let templates = try Self.slowTemplates(in: lab, seconds: 5)
        let before = try lab.liveRules("ipt1", target: "iptables")
        let beforeNft = try lab.liveRules("nft1", target: "nftables")
        let process = try Self.start(lab, ["deploy", "-i", lab.inventoryPath, "--known-hosts", lab.lab.knownHosts, "--templates", templates,
                                           "--all", "--confirm-timeout", "4", "--json"], name: "killed")
        defer { if process.isRunning { process.terminate() } }
        // Once the new rules are live (the script is in its pause), cut every SSH connection to the hosts.
        try Self.wait(seconds: 30, "the new rules to be live") {
            try lab.inHost("ipt1", ["iptables", "-S"]).stdoutText.contains("--dport 80")
                && lab.inHost("nft1", ["nft", "list", "ruleset"]).stdoutText.contains("dport 80")
        }
        for name in ["ipt1", "nft1"] {
            let sessions = try lab.lab.sessionProcesses(try lab.host(name))
            #expect(!sessions.isEmpty, "\(name) has an open connection to kill")
            for pid in sessions { kill(pid, SIGKILL) }
        }
        try Self.finish(process)
        #expect(process.terminationStatus == 1)
        let reports = try JSONDecoder().decode([Report].self, from: Data(contentsOf: URL(fileURLWithPath: lab.lab.folder.path("killed.out"))))
        for report in reports {
            #expect(report.result == "rolled back", "\(report.host): \(report.result) \(report.reason ?? "")")
            #expect(try lab.pendingCookies(report.host).isEmpty)
            #expect(try lab.lab.revertTimers(try lab.host(report.host)).isEmpty)
        }
        #expect(reports.count == 2)
        #expect(try lab.liveRules("ipt1", target: "iptables") == before, "the timer restored the old rules")
        #expect(try lab.liveRules("nft1", target: "nftables") == beforeNft)
    }

    @Test func aSecondRunOnAHostWithATimerArmedIsRefused() throws {
        try Integration.require(DeployLab.requirements)
        let lab = try DeployLab([.init(name: "ipt1", number: 11, target: "iptables")])
        defer { lab.shutdown() }
        let templates = try Self.slowTemplates(in: lab, seconds: 3)
        let process = try Self.start(lab, ["deploy", "-i", lab.inventoryPath, "--known-hosts", lab.lab.knownHosts, "--templates", templates,
                                           "--all", "--json"], name: "first")
        defer { if process.isRunning { process.terminate() } }
        try Self.wait(seconds: 30, "the first run's rules to be live") {
            try lab.inHost("ipt1", ["iptables", "-S"]).stdoutText.contains("--dport 80")
        }
        let (second, reports) = try lab.reports("deploy", ["--all"])
        #expect(second.status == 1)
        #expect(reports["ipt1"]?.result == "refused")
        #expect(reports["ipt1"]?.reason?.contains("another fwctl run") == true, "\(reports["ipt1"]?.reason ?? "")")
        try Self.finish(process)
        #expect(process.terminationStatus == 0, "the first run confirms undisturbed")
        #expect(try lab.generations("ipt1").count == 1)
    }

    @Test func onATerminalProgressIsOneLiveLine() throws {
        try Integration.require(DeployLab.requirements + [.command("script")])
        let lab = try DeployLab([.init(name: "a1", number: 21, target: "iptables"), .init(name: "a2", number: 22, target: "nftables")])
        defer { lab.shutdown() }
        // script(1) gives fwctl a pseudo-terminal; its output is what the terminal would show.
        let command = lab.lab.fwctlCommand(["deploy"] + lab.connectionOptions + ["--all"]).joined(separator: " ")
        let result = try lab.lab.network.run(lab.lab.controller, ["script", "-q", "-e", "-c", command, "/dev/null"], timeout: 120)
        #expect(result.status == 0, "\(result.stdoutText)")
        let shown = result.stdoutText
        #expect(shown.contains("\r\u{1B}[Kdeploy: 2/2 done"), "\(shown.debugDescription)")
        #expect(shown.contains("running (a"), "the running hosts and their steps: \(shown.debugDescription)")
        #expect(!shown.contains("fwctl: [1/2]"), "no per-host lines on a terminal")
        #expect(!shown.contains("\u{1B}[31m") && !shown.contains("\u{1B}[32m"), "no colour with NO_COLOR")
    }

    @Test func canaryAndMaxFailStopWhereTheyShould() throws {
        try Integration.require(DeployLab.requirements)
        let lab = try DeployLab([
            .init(name: "down1", number: 11, target: "iptables", sshd: false),
            .init(name: "a1", number: 21, target: "iptables"), .init(name: "a2", number: 22, target: "nftables"),
            .init(name: "a3", number: 23, target: "ufw"),
        ])
        defer { lab.shutdown() }
        // The canary (the first host) fails: nobody else starts.
        let (canary, canaryReports) = try lab.reports("deploy", ["--all", "--canary", "1"])
        #expect(canary.status == 1)
        #expect(canaryReports["down1"]?.result == "failed")
        for name in ["a1", "a2", "a3"] {
            #expect(canaryReports[name]?.result == "skipped", "\(name): \(canaryReports[name]?.result ?? "")")
            #expect(canaryReports[name]?.reason?.contains("canary") == true)
            #expect(try lab.generations(name).isEmpty, "\(name) was not touched")
        }
        // --max-fail 0%, one host at a time: past the first failure, nothing starts.
        let (strict, strictReports) = try lab.reports("deploy", ["--all", "--max-fail", "0%", "--parallel", "1"])
        #expect(strict.status == 1)
        #expect(["a1", "a2", "a3"].allSatisfy { strictReports[$0]?.result == "skipped" }, "\(strictReports.mapValues(\.result))")
        #expect(strictReports["a1"]?.reason?.contains("--max-fail") == true)
        // --max-fail 30%: one failure in four is 25%, so the others run; batches of 2 run in order.
        let (loose, looseReports) = try lab.reports("deploy", ["--all", "--max-fail", "30%", "--batch", "2"])
        #expect(loose.status == 1)
        #expect(["a1", "a2", "a3"].allSatisfy { looseReports[$0]?.result == "deployed" }, "\(looseReports.mapValues { "\($0.result) \($0.reason ?? "")" })")
    }

    @Test func ctrlCStopsStartingHostsAndLeavesEveryHostOnOldOrNewRulesWithNoTimer() throws {
        try Integration.require(DeployLab.requirements)
        let names = ["h1", "h2", "h3", "h4"]
        let lab = try DeployLab(names.enumerated().map { .init(name: $1, number: 11 + $0, target: $0 % 2 == 0 ? "iptables" : "nftables") })
        defer { lab.shutdown() }
        let templates = try Self.slowTemplates(in: lab, seconds: 2)
        let process = try Self.start(lab, ["deploy", "-i", lab.inventoryPath, "--known-hosts", lab.lab.knownHosts, "--templates", templates,
                                           "--all", "--parallel", "1", "--json"], name: "interrupted")
        defer { if process.isRunning { process.terminate() } }
        // Interrupt while the first host has its rules live and its timer armed.
        try Self.wait(seconds: 30, "the first host's rules to be live") {
            try lab.inHost("h1", ["iptables", "-S"]).stdoutText.contains("--dport 80")
        }
        process.interrupt()
        try Self.finish(process)
        #expect(process.terminationStatus == 1)
        let stderr = try String(contentsOfFile: lab.lab.folder.path("interrupted.err"), encoding: .utf8)
        #expect(stderr.contains("interrupted"), "\(stderr)")
        let reports = try JSONDecoder().decode([Report].self, from: Data(contentsOf: URL(fileURLWithPath: lab.lab.folder.path("interrupted.out"))))
        let results = Dictionary(uniqueKeysWithValues: reports.map { ($0.host, $0.result) })
        #expect(results["h1"] == "deployed", "the running host finished: \(results)")
        #expect(["h2", "h3", "h4"].allSatisfy { results[$0] == "skipped" }, "\(results)")
        for (index, name) in names.enumerated() {
            #expect(try lab.pendingCookies(name).isEmpty, "\(name): no timer armed")
            #expect(try lab.lab.revertTimers(try lab.host(name)).isEmpty, "\(name): no timer process")
            let live = try lab.liveRules(name, target: index % 2 == 0 ? "iptables" : "nftables")
            #expect(live.contains("dport 80") == (name == "h1"), "\(name) is on its old rules or its new ones")
        }
    }
}

struct WaitTimedOut: Error, CustomStringConvertible {
    var what: String
    var description: String { "timed out waiting for \(what)" }
}
