import Foundation
import Testing
import TestSupport

/// Deeply nested groups cost time linear in their number: a hang guard, not a speed check (speed is for benchmarks).
@Suite struct GroupChainTests {
    @Test(arguments: [true, false])
    func twentyThousandNestedGroupsCheckWellInsideTheGuard(topDown: Bool) throws {
        let count = 20_000
        var sections = (0..<(count - 1)).map { "[g\($0):children]\ng\($0 + 1)" }
        if !topDown { sections.reverse() }
        sections.append("[g\(count - 1)]\nh1 ansible_host=192.0.2.1")
        sections.append(#"[all:vars]"# + "\n" + #"firewall={"management": ["198.51.100.1"], "allow": [{"from": "g5", "ports": [80]}]}"#)
        let folder = try TemporaryFolder("fwctl-group-chain", files: ["inv.ini": sections.joined(separator: "\n") + "\n"])
        defer { folder.remove() }
        // Quadratic, this took minutes (188 s for check in a debug build); linear, it takes about a second.
        let result = try runFWCtl(["check", "-i", folder.path("inv.ini")], timeout: 60)
        #expect(!result.timedOut, "20,000 nested groups took longer than the 60 s guard")
        #expect(result.status == 0, "\(result.stderrText)")
        #expect(result.stdoutText.contains("h1"))
    }
}
