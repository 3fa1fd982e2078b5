import FWBase
@testable import FWPolicy
import FWTemplate
import Foundation
import Testing
import TestSupport
@testable import FWDeploy

/// The on-host scripts as rendered: values checked, files carried intact, no value able to end a quote.
struct HostScriptsTests {
    static func scripts() throws -> HostScripts {
        let templates = try TemplateSet(directory: RepoPaths.root.appendingPathComponent("templates").path, options: .fwctl)
        return try HostScripts(templates: templates, generator: "fwctl test")
    }

    static func run(_ action: DeployAction = .deploy, state: String = "/var/lib/fwctl", user: String = "alice") -> HostScripts.Run {
        .init(host: "web1", target: .iptables, stateDirectory: state, runID: "abc123", user: user, action: action, hasSets: false)
    }

    @Test func theFilesTravelAsBase64AndDecodeToTheSameBytes() throws {
        let rules = Array("*filter\n:FWCTL-INPUT - [0:0]\n-A FWCTL-INPUT -m comment --comment \"it's $(x)\" -j ACCEPT\nCOMMIT\n".utf8)
        let script = String(decoding: try Self.scripts().apply(Self.run(), files: [FileBytes(path: "rules.v4", bytes: rules)],
                                                              confirmSeconds: 30, keep: 10, rollbackTo: nil), as: UTF8.self)
        let line = try #require(script.split(separator: "\n").first { $0.contains("/new/rules.v4") && $0.hasPrefix("printf") })
        let encoded = try #require(line.split(separator: "'").dropFirst(3).first)
        #expect(Data(base64Encoded: String(encoded)) == Data(rules))
        #expect(script.contains("FW_STATE='/var/lib/fwctl'"))
        #expect(script.contains("'30' \"$FW_TARGET\""), "the confirm timeout reaches the timer")
        #expect(!script.contains("{{"), "every tag rendered")
    }

    @Test func aRunChecksItsValues() throws {
        let scripts = try Self.scripts()
        #expect(throws: DeployError.self) {
            try scripts.apply(Self.run(state: "/var/lib/fw'ctl"), files: [], confirmSeconds: 30, keep: 10, rollbackTo: nil)
        }
        #expect(throws: DeployError.self) { try scripts.apply(Self.run(), files: [], confirmSeconds: 0, keep: 10, rollbackTo: nil) }
        #expect(throws: DeployError.self) { try scripts.apply(Self.run(), files: [], confirmSeconds: 30, keep: 0, rollbackTo: nil) }
        #expect(throws: DeployError.self, "a file the target does not have") {
            try scripts.apply(Self.run(), files: [FileBytes(path: "../x", bytes: [])], confirmSeconds: 30, keep: 10, rollbackTo: nil)
        }
        // A user name is recorded in plain characters only.
        let script = String(decoding: try scripts.confirm(Self.run(user: "bob'; rm -rf /"), verifyOnly: false), as: UTF8.self)
        #expect(script.contains("'bob___rm_-rf__'"), "\(script)")
    }

    @Test func rollbackAndDryRunRenderTheirOwnPaths() throws {
        let scripts = try Self.scripts()
        let rollback = String(decoding: try scripts.apply(Self.run(.rollback), files: [], confirmSeconds: 30, keep: 10, rollbackTo: 3), as: UTF8.self)
        #expect(rollback.contains("awk -F- '$1 + 0 == 3'"))
        let dryRun = String(decoding: try scripts.apply(Self.run(.dryRun), files: [], confirmSeconds: 30, keep: 10, rollbackTo: nil), as: UTF8.self)
        #expect(dryRun.contains("fw_end changed"))
        #expect(!dryRun.contains("setsid -f"), "a dry run arms no timer")
        #expect(!dryRun.contains("fw_load \"$FW_RUN/new\" >"), "and applies nothing")
    }
}
