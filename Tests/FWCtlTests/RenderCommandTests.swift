import Foundation
import Testing
import TestSupport

/// `fwctl render` and `fwctl check`, run as a user runs them.
@Suite struct RenderCommandTests {
    let fwctl = RepoPaths.fwctl.path
    let example = RepoPaths.root.appendingPathComponent("inventory/example").path
    let templates = RepoPaths.root.appendingPathComponent("templates").path

    func run(_ arguments: [String]) throws -> ProcessResult { try runFWCtl(arguments) }

    /// Every file below a folder with its bytes, to prove a failed run changed nothing.
    func snapshot(_ folder: URL) -> [String: Data] {
        var files: [String: Data] = [:]
        let paths = FileManager.default.enumerator(atPath: folder.path)?.allObjects as? [String] ?? []
        for path in paths {
            var isDirectory: ObjCBool = false
            let full = folder.appendingPathComponent(path)
            if FileManager.default.fileExists(atPath: full.path, isDirectory: &isDirectory), !isDirectory.boolValue {
                files[path] = try? Data(contentsOf: full)
            }
        }
        return files
    }

    @Test func renderWritesEachHostsFilesAndASummary() throws {
        let folder = try TemporaryFolder("fwctl-render")
        defer { folder.remove() }
        let out = folder.url.appendingPathComponent("out")
        let result = try run(["render", "-i", example, "-o", out.path])
        #expect(result.status == 0, "\(result.stderrText)")
        let lines = result.stdoutText.split(separator: "\n")
        #expect(lines.first?.hasPrefix("HOST") == true)
        #expect(lines.count == 21, "a header and 20 hosts")
        #expect(result.stdoutText.contains("db1       iptables"))
        let files = snapshot(out)
        #expect(files.keys.contains("db1/rules.v4"))
        #expect(files.keys.contains("app1/user.rules"))
        #expect(files.keys.contains("cache1/fwctl.nft"))
        #expect(!files.keys.contains { $0.contains(".fwctl-staging") }, "no staging folder left behind")
        let rules = String(decoding: try #require(files["db1/rules.v4"]), as: UTF8.self)
        #expect(rules.contains("-A FWCTL-INPUT -i eth1 -s 192.0.2.21 -p tcp -m tcp --dport 5432"))
    }

    @Test func jsonSummaryAndForcedTarget() throws {
        let folder = try TemporaryFolder("fwctl-render-json")
        defer { folder.remove() }
        let result = try run(["render", "-i", example, "-o", folder.path("out"), "--target", "nftables", "--limit", "db", "--json"])
        #expect(result.status == 0, "\(result.stderrText)")
        struct Document: Decodable {
            struct Host: Decodable { var host: String; var status: String; var target: String?; var files: [String]? }
            var hosts: [Host]
        }
        let document = try JSONDecoder().decode(Document.self, from: result.stdout)
        #expect(document.hosts.map(\.host) == ["db1", "db2", "db3"])
        #expect(document.hosts.allSatisfy { $0.status == "rendered" && $0.target == "nftables" })
        #expect(document.hosts[0].files == ["\(folder.path("out"))/db1/fwctl.nft"])
    }

    @Test func rerenderingReplacesHostFoldersAndKeepsOthers() throws {
        let folder = try TemporaryFolder("fwctl-rerender")
        defer { folder.remove() }
        let out = folder.url.appendingPathComponent("out")
        #expect(try run(["render", "-i", example, "-o", out.path, "--target", "iptables"]).status == 0)
        #expect(try run(["render", "-i", example, "-o", out.path, "--limit", "db1", "--target", "nftables"]).status == 0)
        let files = snapshot(out)
        #expect(files.keys.filter { $0.hasPrefix("db1/") }.sorted() == ["db1/fwctl.nft"], "db1's folder was replaced whole")
        #expect(files.keys.contains("db2/rules.v4"), "other hosts are untouched")
    }

    /// Inventory values built to inject rules: each is refused with a clear error, and the output folder, which
    /// holds an earlier render, is byte for byte what it was.
    @Test(arguments: [
        ("comment: \"ok\\n-A INPUT -j ACCEPT\"", "comment"),
        ("comment: 'x\" -j ACCEPT \"'", "comment"),
        ("interface: \"eth0 -j ACCEPT\"", "interface"),
        ("interface: \"eth0\\r\"", "interface"),
        ("ports: [\"22 -j ACCEPT\"]", "ports"),
        ("ports: [\"80,81\"]", "ports"),
        ("proto: \"tcp -j ACCEPT\"", "proto"),
    ])
    func hostileValuesAreRefusedAndNothingIsWritten(entry: String, field: String) throws {
        let folder = try TemporaryFolder("fwctl-hostile", files: [
            "inventory.yml": """
                all:
                  hosts:
                    h1: {ansible_host: 192.0.2.1}
                  vars:
                    firewall:
                      management: [192.0.2.0/24]
                      allow:
                        - {from: any, \(entry)}
                """,
            "out/h1/rules.v4": "earlier render\n",
        ])
        defer { folder.remove() }
        let before = snapshot(folder.url.appendingPathComponent("out"))
        let result = try run(["render", "-i", folder.path("inventory.yml"), "-o", folder.path("out")])
        #expect(result.status == 2, "\(result.stdoutText)\(result.stderrText)")
        #expect(result.stderrText.contains("firewall.allow[0].\(field)"), "\(result.stderrText)")
        #expect(result.stderrText.contains("inventory.yml"))
        #expect(result.stdout.isEmpty)
        #expect(snapshot(folder.url.appendingPathComponent("out")) == before)
    }

    @Test func hostileHostAndGroupNamesNeverReachARuleFile() throws {
        let folder = try TemporaryFolder("fwctl-hostile-names", files: [
            "inventory.yml": """
                all:
                  children:
                    "evil\\n-A INPUT -j ACCEPT":
                      hosts:
                        "h1\\n-A INPUT -j ACCEPT": {ansible_host: 192.0.2.1}
                  vars:
                    firewall:
                      management: [192.0.2.0/24]
                """,
        ])
        defer { folder.remove() }
        let result = try run(["render", "-i", folder.path("inventory.yml"), "-o", folder.path("out")])
        #expect(result.status == 2, "\(result.stdoutText)\(result.stderrText)")
        // Refused where the name is declared, escaped in the message.
        #expect(result.stderrText.contains("inventory.yml:3:5: group name 'evil\\n-A INPUT -j ACCEPT' contains"),
                "names are escaped in messages: \(result.stderrText)")
        #expect(!FileManager.default.fileExists(atPath: folder.path("out/h1")))
        let written = snapshot(folder.url.appendingPathComponent("out"))
        #expect(written.values.allSatisfy { !String(decoding: $0, as: UTF8.self).contains("-j ACCEPT\n-A") })
        #expect(written.isEmpty)
    }

    @Test func templatesAreFoundBesideTheExecutableFromAnyFolder() throws {
        let folder = try TemporaryFolder("fwctl-anywhere")
        defer { folder.remove() }
        var env = ProcessInfo.processInfo.environment
        env["FWCTL_TEMPLATES"] = nil
        env["FWCTL_INVENTORY"] = nil
        let result = try runProcess(fwctl, ["check", "-i", example], environment: env, currentDirectory: folder.url)
        #expect(result.status == 0, "\(result.stderrText)")
        let missing = try runProcess(fwctl, ["check", "-i", example, "--templates", folder.path("none")], environment: env)
        #expect(missing.status == 2)
        #expect(missing.stderrText.contains("none"))
    }

    @Test func resultsThatCannotBeWrittenAreAFailure() throws {
        let result = try runShell("FWCTL_TEMPLATES='\(templates)' '\(fwctl)' check -i '\(example)' > /dev/full")
        #expect(result.status == 1)
        #expect(result.stderrText.contains("cannot write the results to stdout"))
    }

    @Test func checkFindsLockoutsAndExitsOne() throws {
        let folder = try TemporaryFolder("fwctl-lockout", files: [
            "inventory.yml": """
                all:
                  hosts:
                    h1: {ansible_host: 192.0.2.1}
                    h2: {ansible_host: 192.0.2.2, firewall: {management: [192.0.2.9]}}
                  vars:
                    firewall:
                      allow: [{from: any, ports: [80]}]
                """,
        ])
        defer { folder.remove() }
        let result = try run(["check", "-i", folder.path("inventory.yml")])
        #expect(result.status == 1, "\(result.stderrText)")
        #expect(result.stderrText.contains("lock everyone out"))
        #expect(result.stdoutText.contains("h1"))
        #expect(result.stdoutText.contains("lockout"))
        #expect(result.stdoutText.contains("h2") && result.stdoutText.contains("ok"))
        // render refuses the same policy and writes nothing.
        let render = try run(["render", "-i", folder.path("inventory.yml"), "-o", folder.path("out")])
        #expect(render.status == 1)
        #expect(snapshot(folder.url.appendingPathComponent("out")).isEmpty)
    }

    @Test func checkPassesTheExampleAndNamesProblemsOnce() throws {
        let ok = try run(["check", "-i", example])
        #expect(ok.status == 0, "\(ok.stderrText)")
        #expect(ok.stdoutText.split(separator: "\n").dropFirst().allSatisfy { $0.hasSuffix("ok") })

        let folder = try TemporaryFolder("fwctl-check-bad", files: [
            "hosts": "[web]\nw1 ansible_host=192.0.2.1\nw2 ansible_host=192.0.2.2\n",
            "group_vars/web.yml": "firewall:\n  management: [192.0.2.0/24]\n  allow:\n    - {from: nosuch, ports: [80]}\n",
        ])
        defer { folder.remove() }
        let bad = try run(["check", "-i", folder.path("hosts")])
        #expect(bad.status == 2)
        let errorLines = bad.stderrText.split(separator: "\n").filter { $0.contains("error:") }
        #expect(errorLines.count == 1, "one problem shared by both hosts is reported once: \(bad.stderrText)")
        #expect(errorLines.first?.contains("group_vars/web.yml") == true)
        #expect(errorLines.first?.contains("hosts w1, w2") == true)
    }
}
