import Foundation
import Testing
import TestSupport

/// Runs the built fwctl as a user runs it, and records what a lab leaves on the machine.
enum LabSupport {
    static let fwctl = RepoPaths.fwctl.path
    static let templates = RepoPaths.root.appendingPathComponent("templates").path

    static let requirements: [Integration.Requirement] = [
        .root, .networkNamespaces, .path("/usr/sbin/sshd"), .command("ssh"), .command("ssh-keygen"), .command("sudo"),
        .command("unshare"), .command("nsenter"),
    ]

    /// A lab name no other test or user has: `t`, the test process id, a letter. Labs left by test processes
    /// that no longer exist (a crash or a kill skips `defer`) are removed first.
    static func labName(_ letter: String) -> String {
        removeStaleLabs
        return "t\(getpid())\(letter)"
    }

    private static let removeStaleLabs: Void = {
        for name in (try? FileManager.default.contentsOfDirectory(atPath: "/run/fwctl/lab")) ?? [] {
            guard name.first == "t", let digits = name.dropFirst().split(whereSeparator: { !$0.isNumber }).first,
                  name.dropFirst().hasPrefix(digits), let pid = Int32(digits), pid != getpid(),
                  name.count == digits.count + 2, kill(pid, 0) != 0, errno == ESRCH else { continue }
            cleanUp(name)
        }
    }()

    @discardableResult
    static func run(_ arguments: [String], timeout: TimeInterval = 120) throws -> ProcessResult {
        var environment = ProcessInfo.processInfo.environment
        environment["FWCTL_INVENTORY"] = nil
        environment["FWCTL_TEMPLATES"] = templates
        environment["NO_COLOR"] = "1"
        return try runProcess(fwctl, arguments, environment: environment, timeout: timeout)
    }

    /// Like `run`, recording an issue unless fwctl exits 0.
    @discardableResult
    static func check(_ arguments: [String], timeout: TimeInterval = 120, sourceLocation: SourceLocation = #_sourceLocation) throws -> ProcessResult {
        let result = try run(arguments, timeout: timeout)
        #expect(result.status == 0, "fwctl \(arguments.joined(separator: " ")) exited \(result.status):\n\(result.stderrText)\n\(result.stdoutText)",
                sourceLocation: sourceLocation)
        return result
    }

    /// Everything of a lab the machine can show: its namespaces, their bind mounts, links named as the lab
    /// names links, processes naming the lab, its state folder.
    static func traces(of lab: String) throws -> [String] {
        var found: [String] = []
        let namespaces = try runProcess("/usr/bin/env", ["PATH=/usr/sbin:/usr/bin:/sbin:/bin", "ip", "netns", "list"]).stdoutText
        for line in namespaces.split(separator: "\n") {
            let name = String(line.split(separator: " ")[0])
            if name.hasPrefix(lab + "-") || name.hasPrefix(lab + ".") || name.hasPrefix(lab + "_") { found.append("netns \(name)") }
        }
        let mounts = (try? String(contentsOfFile: "/proc/self/mountinfo", encoding: .utf8)) ?? ""
        for line in mounts.split(separator: "\n") where line.contains("/\(lab)") { found.append("mount \(line)") }
        // The lab makes no link in the machine's own namespace: none of its link names may appear there.
        let links = try runProcess("/usr/bin/env", ["PATH=/usr/sbin:/usr/bin:/sbin:/bin", "ip", "-o", "link"]).stdoutText
        for line in links.split(separator: "\n") {
            let fields = line.split(separator: " ")
            guard fields.count > 1 else { continue }
            let name = fields[1].split(separator: "@")[0].trimmingCharacters(in: CharacterSet(charactersIn: ":"))
            if name.range(of: #"^(h[0-9]+|c0)$"#, options: .regularExpression) != nil { found.append("link \(name)") }
        }
        for entry in (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? [] where Int32(entry) != nil {
            guard let data = FileManager.default.contents(atPath: "/proc/\(entry)/cmdline"), !data.isEmpty else { continue }
            let text = String(decoding: data.map { $0 == 0 ? 0x20 : $0 }, as: UTF8.self)
            if text.contains("/run/fwctl/lab/\(lab)/") || text.contains(" \(lab)-") || text.contains(" \(lab).") { found.append("process \(entry): \(text)") }
        }
        if FileManager.default.fileExists(atPath: "/run/fwctl/lab/\(lab)") { found.append("folder /run/fwctl/lab/\(lab)") }
        return found
    }

    /// Removes a lab whatever state a failed test left it in.
    static func cleanUp(_ lab: String) {
        _ = try? run(["lab", "down", "--name", lab, "-q"], timeout: 60)
    }

    /// `lab status --json`, decoded.
    static func status(_ lab: String) throws -> [String: Any] {
        let result = try run(["lab", "status", "--name", lab, "--json"])
        let object = try JSONSerialization.jsonObject(with: result.stdout) as? [String: Any]
        return try #require(object, "lab status --json: \(result.stdoutText) \(result.stderrText)")
    }

    static func hosts(_ status: [String: Any]) -> [String: [String: Any]] {
        let list = status["hosts"] as? [[String: Any]] ?? []
        return Dictionary(list.map { ($0["host"] as? String ?? "", $0) }, uniquingKeysWith: { first, _ in first })
    }
}
