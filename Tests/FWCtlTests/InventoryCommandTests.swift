import Foundation
import Testing
import TestSupport

/// `fwctl inventory`, run as a user runs it.
@Suite struct InventoryCommandTests {
    let fwctl = RepoPaths.fwctl.path
    let example = RepoPaths.root.appendingPathComponent("inventory/example").path
    let fixtures = RepoPaths.root.appendingPathComponent("Tests/FWInventoryTests/Fixtures").path

    func run(_ arguments: [String], environment: [String: String]? = nil) throws -> ProcessResult {
        var env = ProcessInfo.processInfo.environment
        env["FWCTL_INVENTORY"] = nil
        for (key, value) in environment ?? [:] { env[key] = value }
        return try runProcess(fwctl, arguments, environment: env)
    }

    @Test func graphOfTheExampleFleet() throws {
        let result = try run(["inventory", "-i", example, "--graph"])
        #expect(result.status == 0, "\(result.stderrText)")
        #expect(result.stderr.isEmpty)
        expectGolden(result.stdoutText, named: "inventory-example-graph.txt")
    }

    @Test func listOfTheExampleFleet() throws {
        let result = try run(["inventory", "-i", example, "--list"])
        #expect(result.status == 0, "\(result.stderrText)")
        expectGolden(result.stdoutText, named: "inventory-example-list.json")
    }

    @Test func hostShowsMergedVars() throws {
        let result = try run(["inventory", "-i", example, "--host", "db1"])
        #expect(result.status == 0, "\(result.stderrText)")
        expectGolden(result.stdoutText, named: "inventory-example-host-db1.json")
    }

    /// As in ansible-inventory, --host looks in the whole inventory, whatever --limit says.
    @Test func hostIgnoresTheLimit() throws {
        let shown = try run(["inventory", "-i", example, "--host", "web1", "--limit", "db2"])
        #expect(shown.status == 0, "\(shown.stderrText)")
        #expect(shown.stdoutText.contains("\"ansible_host\": \"198.51.100.11\""), "\(shown.stdoutText)")
    }

    @Test func limitSelectsHosts() throws {
        let list = try run(["inventory", "-i", example, "--list", "--limit", "db:&prod:!db2"])
        #expect(list.status == 0)
        #expect(list.stdoutText.contains("\"db1\": {"))
        #expect(list.stdoutText.contains("\"db3\": {"))
        #expect(!list.stdoutText.contains("\"db2\""))
        #expect(!list.stdoutText.contains("\"web1\""))
        let graph = try run(["inventory", "-i", example, "--graph", "prod", "--limit", "web1,app1"])
        #expect(graph.stdoutText == "@prod:\n  |--@web:\n  |  |--web1\n  |--@app:\n  |  |--app1\n  |--@db:\n  |--@cache:\n")
    }

    /// An inventory file whose name is one character, given relative to the working folder (Foundation's path
    /// code crashed on it), with its group_vars beside it.
    @Test(arguments: ["a", "b/"]) func aOneCharacterInventoryNameLoads(_ name: String) throws {
        let folder = try TemporaryFolder("fwctl-short-name", files: ["a": "[g]\nh1\n", "group_vars/g.yml": "x: 1\n", "b/hosts": "[g]\nh2\n"])
        defer { folder.remove() }
        var env = ProcessInfo.processInfo.environment
        env["FWCTL_INVENTORY"] = nil
        let result = try runProcess(RepoPaths.fwctl.path, ["inventory", "-i", name, "--list"], environment: env,
                                    currentDirectory: folder.url)
        #expect(result.status == 0, "\(result.stderrText)")
        #expect(result.stdoutText.contains(name == "a" ? "\"h1\"" : "\"h2\""), "\(result.stdoutText)")
        if name == "a" { #expect(result.stdoutText.contains("\"x\": 1"), "group_vars beside the file: \(result.stdoutText)") }
    }

    @Test func theInventoryMayComeFromTheEnvironment() throws {
        let result = try run(["inventory", "--graph", "db"], environment: ["FWCTL_INVENTORY": example])
        #expect(result.status == 0)
        #expect(result.stdoutText == "@db:\n  |--db1\n  |--db2\n  |--db3\n")
    }

    @Test func usageErrorsExit64() throws {
        let missing = try run(["inventory", "--list"])
        #expect(missing.status == 64)
        #expect(missing.stderrText.contains("-i PATH"))
        let both = try run(["inventory", "-i", example, "--list", "--graph"])
        #expect(both.status == 64)
        #expect(both.stderrText.contains("--list, --graph [GROUP] and --host NAME"))
        #expect(try run(["inventory", "-i", example, "--list", "web"]).status == 64)
    }

    @Test func inputErrorsExit2WithFileAndLine() throws {
        let folder = try TemporaryFolder("fwctl-invcmd", files: ["hosts": "[web]\nw1\n[dbs:vars]\nport=5432\n"])
        defer { folder.remove() }
        let bad = try run(["inventory", "-i", folder.path("hosts"), "--list"])
        #expect(bad.status == 2)
        #expect(bad.stdout.isEmpty)
        #expect(bad.stderrText.contains("\(folder.path("hosts")):3: section [dbs:vars]"))

        let nothing = try run(["inventory", "-i", example, "--list", "--limit", "dbb"])
        #expect(nothing.status == 2)
        #expect(nothing.stderrText.contains("'dbb'"))
        #expect(nothing.stderrText.contains("did you mean 'db'?"))

        let group = try run(["inventory", "-i", example, "--host", "web"])
        #expect(group.status == 2)
        #expect(group.stderrText.contains("matches 5 hosts"))

        let noGraph = try run(["inventory", "-i", example, "--graph", "nosuch"])
        #expect(noGraph.status == 2)

        let absent = try run(["inventory", "-i", folder.path("absent"), "--list"])
        #expect(absent.status == 2)
        #expect(absent.stderrText.contains("does not exist"))
    }

    @Test func warningsGoToStderrAndJSONToStdout() throws {
        let result = try run(["inventory", "-i", "\(fixtures)/precedence/hosts", "--host", "w2"])
        #expect(result.status == 0)
        #expect(result.stderrText.contains("warning: "))
        #expect(result.stderrText.contains("nosuchgroup"))
        #expect(result.stdoutText.hasPrefix("{\n"))
        let quiet = try run(["inventory", "-i", "\(fixtures)/precedence/hosts", "--host", "w2", "--quiet"])
        #expect(quiet.stderr.isEmpty)
    }

    @Test func scriptsAndHostListsAreSources() throws {
        let script = try run(["inventory", "-i", "\(fixtures)/script/inventory.sh", "--graph", "web"])
        #expect(script.stdoutText == "@web:\n  |--@canary:\n  |  |--w3\n  |--w1\n  |--w2\n")
        let list = try run(["inventory", "-i", "h1,[2001:db8::1]:2222,", "--host", "2001:db8::1"])
        #expect(list.stdoutText == "{\n    \"ansible_port\": 2222\n}\n")
    }
}
