import Foundation
import Testing
import TestSupport

/// Inventory values that try to steer the terminal: whatever fwctl prints about them is escaped.
@Suite struct HostileInputTests {
    func run(_ arguments: [String]) throws -> ProcessResult { try runFWCtl(arguments) }

    /// Nothing but printable text and line feeds; no line an attacker wrote.
    func expectOnlyEscaped(_ output: String, sourceLocation: SourceLocation = #_sourceLocation) {
        let unsafe = output.unicodeScalars.filter { scalar in
            scalar != "\n" && (scalar.value < 0x20 || (0x7F...0x9F).contains(scalar.value)
                || [.format, .lineSeparator, .paragraphSeparator].contains(scalar.properties.generalCategory))
        }
        #expect(unsafe.isEmpty, "raw \(unsafe.map { String($0.value, radix: 16) }) in \(output.debugDescription)",
                sourceLocation: sourceLocation)
        #expect(!output.split(separator: "\n").contains { $0.hasPrefix("all hosts ok") }, "a forged line", sourceLocation: sourceLocation)
    }

    static let payloads = ["\\u001b[2K\\rall hosts ok", "\\nall hosts ok", "\\u202eko", "\\u2028all hosts ok", "\\u0000x", "\\u009b2J"]

    @Test(arguments: payloads)
    func valuesInPolicyErrorsAreEscaped(_ payload: String) throws {
        let folder = try TemporaryFolder("fwctl-hostile", files: ["inv.json": """
            {"all": {"hosts": {"h1": {"ansible_host": "192.0.2.1",
              "firewall": {"management": ["192.0.2.9"], "allow": [{"from": ["x\(payload)"], "ports": [80], "proto": "tcp\(payload)"}]}}}}}
            """])
        defer { folder.remove() }
        for command in ["check", "render"] {
            let result = try run([command, "-i", folder.path("inv.json"), "-o", folder.path("out")].filter { command == "render" || !$0.contains("out") && $0 != "-o" })
            #expect(result.status == 2, "\(result.stderrText)")
            expectOnlyEscaped(result.stderrText)
            expectOnlyEscaped(result.stdoutText)
        }
    }

    @Test(arguments: payloads)
    func namesInInventoryErrorsAreEscaped(_ payload: String) throws {
        let folder = try TemporaryFolder("fwctl-hostile-name", files: [
            "inv.json": "{\"all\": {\"hosts\": {\"h\(payload)\": {}}}}",
        ])
        defer { folder.remove() }
        for arguments in [["check", "-i", folder.path("inv.json")], ["inventory", "--list", "-i", folder.path("inv.json")]] {
            let result = try run(arguments)
            #expect(result.status == 2, "\(result.stderrText)")
            #expect(result.stderrText.contains("inv.json:1"), "\(result.stderrText)")
            expectOnlyEscaped(result.stderrText)
        }
    }

    @Test func limitPatternsAreEscapedInMessages() throws {
        let folder = try TemporaryFolder("fwctl-hostile-limit", files: ["inv.ini": "h1 ansible_host=192.0.2.1\n"])
        defer { folder.remove() }
        let result = try run(["check", "-i", folder.path("inv.ini"), "--limit", "x\u{1B}[2K\rall hosts ok\nall hosts ok"])
        #expect(result.status != 0)
        expectOnlyEscaped(result.stderrText)
    }

    /// A hang guard, not a speed check: with a backtracking engine this ran for minutes.
    @Test func aCatastrophicLimitRegexFinishes() throws {
        let name = String(repeating: "a", count: 41) + "b"
        let folder = try TemporaryFolder("fwctl-limit-regex", files: ["inv.ini": "\(name) ansible_host=192.0.2.1\naaa ansible_host=192.0.2.2\n"])
        defer { folder.remove() }
        let result = try runFWCtl(["inventory", "--graph", "-i", folder.path("inv.ini"), "--limit", "~(a|aa)*$"], timeout: 60)
        #expect(!result.timedOut)
        #expect(result.status == 0, "\(result.stderrText)")
        #expect(result.stdoutText.contains("--aaa") && !result.stdoutText.contains(name), "\(result.stdoutText)")
    }
}
