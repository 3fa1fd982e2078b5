import Testing
import TestSupport
@testable import FWInventory

/// One host budget for the whole inventory, whatever the number and kind of its sources.
@Suite struct HostBudgetTests {
    @Test func rangesInSeveralFilesShareOneBudget() throws {
        let folder = try TemporaryFolder("fwctl-host-budget", files: [
            "inv/a.ini": "web[000:599]\n",
            "inv/b.ini": "db[000:599]\n",
        ])
        defer { folder.remove() }
        let options = LoadOptions(maxHosts: 1_000)
        #expect(try Inventory.load(folder.path("inv/a.ini"), options: options).hosts.count == 600)
        let error = try #require(throws: InventoryError.self) {
            try Inventory.load([folder.path("inv/a.ini"), folder.path("inv/b.ini")], options: options)
        }
        #expect(error.location?.file.hasSuffix("b.ini") == true, "\(error)")
        #expect(error.description.contains("whole inventory"), "\(error)")
    }

    @Test func hostsWithoutRangesCountToo() throws {
        let folder = try TemporaryFolder("fwctl-host-budget-json", files: [
            "inv/a.ini": "web[000:899]\n",
            "inv/b.yml": "all:\n  hosts:\n" + (0..<200).map { "    h\($0):\n" }.joined(),
        ])
        defer { folder.remove() }
        let error = try #require(throws: InventoryError.self) {
            try Inventory.load([folder.path("inv/a.ini"), folder.path("inv/b.yml")], options: LoadOptions(maxHosts: 1_000))
        }
        #expect(error.location?.file.hasSuffix("b.yml") == true, "\(error)")
    }

    /// A 100-byte line must not cost seconds and gigabytes: a range past the default budget is refused before any
    /// host is made.
    @Test func aMillionHostRangeIsRefusedAtOnce() throws {
        let folder = try TemporaryFolder("fwctl-host-budget-million", files: ["hosts": "[web]\nweb[000000:999999]\n"])
        defer { folder.remove() }
        let error = try #require(throws: InventoryError.self) { try Inventory.load(folder.path("hosts")) }
        #expect(error.location?.file.hasSuffix("hosts") == true, "\(error)")
        #expect(error.description.contains("more hosts than fwctl accepts"), "\(error)")
    }
}
