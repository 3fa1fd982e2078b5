import Foundation
import Testing
import TestSupport

/// "On any error the output folder is left as it was", across hosts, signals and odd output paths.
@Suite(.serialized) struct RenderAtomicityTests {
    let fwctl = RepoPaths.fwctl.path
    let templates = RepoPaths.root.appendingPathComponent("templates").path

    func run(_ arguments: [String]) throws -> ProcessResult { try runFWCtl(arguments) }

    static func inventory(port: Int) -> String {
        """
        [web]
        a ansible_host=192.0.2.1
        b ansible_host=192.0.2.2
        c ansible_host=192.0.2.3
        [all:vars]
        firewall={"management": ["198.51.100.0/24"], "allow": [{"from": "any", "ports": [\(port)]}]}
        """
    }

    func files(_ folder: String) -> [String: Data] {
        var result: [String: Data] = [:]
        for path in (FileManager.default.enumerator(atPath: folder)?.allObjects as? [String]) ?? [] {
            var isDirectory: ObjCBool = false
            let full = "\(folder)/\(path)"
            if FileManager.default.fileExists(atPath: full, isDirectory: &isDirectory), !isDirectory.boolValue {
                result[path] = FileManager.default.contents(atPath: full)
            }
        }
        return result
    }

    @Test func anImmutableHostFolderLeavesEveryHostAsItWas() throws {
        let folder = try TemporaryFolder("fwctl-atomic-immutable", files: ["v1": Self.inventory(port: 80), "v2": Self.inventory(port: 8080)])
        defer { folder.remove() }
        let out = folder.path("out")
        #expect(try run(["render", "-i", folder.path("v1"), "-o", out]).status == 0)
        let before = files(out)
        try runProcess("/usr/bin/chattr", ["+i", "\(out)/b"])
        defer { _ = try? runProcess("/usr/bin/chattr", ["-i", "\(out)/b"]) }
        let result = try run(["render", "-i", folder.path("v2"), "-o", out])
        #expect(result.status == 1, "\(result.stderrText)")
        #expect(result.stderrText.contains("\(out)/b") && result.stderrText.contains("immutable"), "\(result.stderrText)")
        #expect(files(out) == before, "a and c keep their old files too")
        #expect(try FileManager.default.contentsOfDirectory(atPath: out).sorted() == ["a", "b", "c"], "no staging folder left")
    }

    /// A failure the check before the swaps cannot see (a mount point cannot be renamed): the swaps done are undone.
    @Test func aSwapThatFailsUndoesTheSwapsBeforeIt() throws {
        try Integration.require([.command("mount")])
        let folder = try TemporaryFolder("fwctl-atomic-undo", files: ["v1": Self.inventory(port: 80), "v2": Self.inventory(port: 8080)])
        defer { folder.remove() }
        let out = folder.path("out")
        #expect(try run(["render", "-i", folder.path("v1"), "-o", out]).status == 0)
        let before = files(out)
        try runProcess("/usr/bin/mount", ["--bind", "\(out)/b", "\(out)/b"])
        defer { _ = try? runProcess("/usr/bin/umount", ["\(out)/b"]) }
        let result = try run(["render", "-i", folder.path("v2"), "-o", out])
        #expect(result.status == 1, "\(result.stderrText)")
        #expect(result.stderrText.contains("nothing was changed"), "\(result.stderrText)")
        #expect(files(out) == before, "a was swapped, then put back")
        #expect(try FileManager.default.contentsOfDirectory(atPath: out).sorted() == ["a", "b", "c"])
    }

    @Test func aFailedRenderCreatesNoOutputFolder() throws {
        let folder = try TemporaryFolder("fwctl-atomic-nofolder", files: ["bad": "a ansible_host=192.0.2.1\n[all:vars]\nfirewall={\"allow\": [{\"from\": \"nosuch\"}]}\n"])
        defer { folder.remove() }
        let result = try run(["render", "-i", folder.path("bad"), "-o", folder.path("new/out")])
        #expect(result.status == 2)
        #expect(result.stderrText.contains("nothing written"))
        #expect(!FileManager.default.fileExists(atPath: folder.path("new")), "neither out nor its parent was left behind")
    }

    @Test func anOutputPathThatIsAFileIsASentence() throws {
        let folder = try TemporaryFolder("fwctl-atomic-file", files: ["inv": Self.inventory(port: 80), "out": "a file"])
        defer { folder.remove() }
        let result = try run(["render", "-i", folder.path("inv"), "-o", folder.path("out/sub")])
        #expect(result.status != 0)
        #expect(result.stderrText.contains("cannot write \(folder.path("out")): it is a file, not a folder"), "\(result.stderrText)")
        #expect(!result.stderrText.contains("NSCocoaErrorDomain"))
    }

    @Test(arguments: ["..", ".hidden", String(repeating: "h", count: 256)])
    func checkRefusesTheHostNamesRenderRefuses(_ name: String) throws {
        let folder = try TemporaryFolder("fwctl-atomic-names", files: [
            "inv.yml": "all:\n  hosts:\n    \"\(name)\": {ansible_host: 192.0.2.1}\n  vars:\n    firewall: {management: [198.51.100.1]}\n",
        ])
        defer { folder.remove() }
        for command in [["check"], ["render", "-o", folder.path("out")]] {
            let result = try run(command + ["-i", folder.path("inv.yml")])
            #expect(result.status == 2, "\(command[0]): \(result.stderrText)")
            #expect(result.stderrText.contains("output folder") || result.stderrText.contains("folder name"), "\(result.stderrText)")
        }
    }

    @Test func staleStagingOfADeadProcessIsRemovedAndALiveOneKept() throws {
        let folder = try TemporaryFolder("fwctl-atomic-stale", files: ["inv": Self.inventory(port: 80)])
        defer { folder.remove() }
        let out = folder.path("out")
        let dead = "\(out)/.fwctl-staging-4194999-1"  // above pid_max: no such process
        let live = "\(out)/.fwctl-staging-\(getpid())-2"
        for path in [dead, live] { try FileManager.default.createDirectory(atPath: "\(path)/x", withIntermediateDirectories: true) }
        #expect(try run(["render", "-i", folder.path("inv"), "-o", out]).status == 0)
        #expect(!FileManager.default.fileExists(atPath: dead))
        #expect(FileManager.default.fileExists(atPath: live))
    }

    @Test func sigtermMidRenderRemovesTheStagingFolder() throws {
        // 20,000 hosts named by their addresses: long enough to catch it staging.
        let folder = try TemporaryFolder("fwctl-atomic-signal", files: [
            "inv": "10.9.[0:79].[1:250]\n[all:vars]\nfirewall={\"management\": [\"198.51.100.0/24\"], \"allow\": [{\"from\": \"any\", \"ports\": [80]}]}\n",
        ])
        defer { folder.remove() }
        let out = folder.path("out")
        let process = Process()
        process.executableURL = URL(fileURLWithPath: fwctl)
        process.arguments = ["render", "-i", folder.path("inv"), "-o", out]
        var env = ProcessInfo.processInfo.environment
        env["FWCTL_TEMPLATES"] = templates
        process.environment = env
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        var sawStaging = false
        for _ in 0..<1_000 where process.isRunning {
            let entries = (try? FileManager.default.contentsOfDirectory(atPath: out)) ?? []
            if entries.contains(where: { $0.hasPrefix(".fwctl-staging-") }) && entries.count == 1,
               let inside = try? FileManager.default.contentsOfDirectory(atPath: "\(out)/\(entries[0])"), inside.count > 10 {
                sawStaging = true
                break
            }
            usleep(5_000)
        }
        if process.isRunning { process.terminate() }
        process.waitUntilExit()
        try #require(sawStaging, "the render ended before the test saw it staging")
        #expect(process.terminationReason == .exit && process.terminationStatus == 128 + SIGTERM,
                "ends with 143, as a process killed by SIGTERM")
        let left = (try? FileManager.default.contentsOfDirectory(atPath: out)) ?? []
        #expect(!left.contains { $0.hasPrefix(".fwctl-staging-") }, "left: \(left)")
    }
}
