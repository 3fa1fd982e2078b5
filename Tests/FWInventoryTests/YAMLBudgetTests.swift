import Testing
import TestSupport
@testable import FWInventory

/// YAML that expands exponentially fails on the alias budget, whether it expands by aliases or by merge keys.
@Suite struct YAMLBudgetTests {
    /// About 1 KB of group_vars: each level merges the one below four times, 4^20 pairs in all.
    static let mergeBomb: String = {
        var lines = ["l0: &l0 {k0: 0, k1: 1, k2: 2, k3: 3}"]
        for level in 1...20 {
            let below = "*l\(level - 1)"
            lines.append("l\(level): &l\(level) {<<: [\(below), \(below), \(below), \(below)], own\(level): \(level)}")
        }
        return lines.joined(separator: "\n") + "\n"
    }()

    @Test func mergeKeysCountAgainstTheAliasBudget() throws {
        let folder = try TemporaryFolder("fwctl-merge-bomb", files: ["hosts": "[web]\nw1\n", "group_vars/web.yml": Self.mergeBomb])
        defer { folder.remove() }
        #expect(Self.mergeBomb.utf8.count < 1_500)
        let error = try #require(throws: InventoryError.self) { try Inventory.load(folder.path("hosts")) }
        #expect(error.message.contains("expand to too many values"), "\(error)")
        #expect(error.location?.file.hasSuffix("group_vars/web.yml") == true && error.location?.line != nil, "\(error)")
    }

    @Test func ordinaryMergeKeysStillWork() throws {
        let inventory = try Inventory.parse(yaml: """
            all:
              vars:
                base: &base {a: 1, b: 2}
                derived: {<<: *base, b: 3}
              hosts: {h1: {}}
            """)
        #expect(inventory.merged("h1")["derived"] == .dict(["a": .int(1), "b": .int(3)]))
    }
}
