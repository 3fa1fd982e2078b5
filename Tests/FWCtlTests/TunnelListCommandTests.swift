import Foundation
import Testing
import TestSupport

/// `fwctl tunnel list`: the example's tunnel resolved, and `--name`/`--limit` choosing among tunnels.
@Suite struct TunnelListCommandTests {
    private func rows(_ arguments: [String] = []) throws -> [[String: Any]] {
        let result = try runFWCtl(["tunnel", "list", "-i", RepoPaths.root.appendingPathComponent("inventory/example").path, "--json"] + arguments)
        #expect(result.status == 0, "\(result.stderrText)")
        return try JSONSerialization.jsonObject(with: result.stdout) as? [[String: Any]] ?? []
    }

    private func names(_ arguments: [String]) throws -> [String] { try rows(arguments).compactMap { $0["name"] as? String } }

    @Test func theExampleTunnelIsListedWithItsAllowlist() throws {
        let listed = try rows()
        #expect(listed.count == 1)
        #expect(listed.first?["home"] as? String == "bastion2")
        #expect((listed.first?["allowlist"] as? [String])?.isEmpty == false)
    }

    @Test func limitPicksTunnelsWithAnEndOnAMatchingHost() throws {
        #expect(try names(["--limit", "app1"]) == ["app1-ssh"], "app1 is the work end")
        #expect(try names(["--limit", "bastion2"]) == ["app1-ssh"], "bastion2 is the home end")
        #expect(try names(["--limit", "db1"]) == [], "db1 is in no tunnel")
    }

    @Test func anUnknownNameIsAnError() throws {
        let result = try runFWCtl(["tunnel", "list", "-i", RepoPaths.root.appendingPathComponent("inventory/example").path, "--name", "nope"])
        #expect(result.status == 2)
        #expect(result.stderrText.contains("no tunnel named"))
    }
}
