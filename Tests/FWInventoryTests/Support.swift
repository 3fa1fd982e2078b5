import Foundation
import Testing
import TestSupport

@testable import FWInventory

/// Fixture inventories kept beside the tests.
enum Fixtures {
    static let root = RepoPaths.directory(of: #filePath).appendingPathComponent("Fixtures")

    static func path(_ relative: String) -> String {
        root.appendingPathComponent(relative).path
    }
}

/// Parses INI text as the file `test.ini` (the name errors give).
func ini(_ text: String) throws -> Inventory {
    try Inventory.parse(ini: text, file: "test.ini")
}

/// The error parsing `text` as INI throws, or nil (and a recorded issue) when it parses.
func iniError(_ text: String, sourceLocation: Testing.SourceLocation = #_sourceLocation) -> InventoryError? {
    do {
        _ = try Inventory.parse(ini: text, file: "test.ini")
        Issue.record("expected an error for:\n\(text)", sourceLocation: sourceLocation)
        return nil
    } catch let error as InventoryError {
        return error
    } catch {
        Issue.record("expected an InventoryError, got \(error)", sourceLocation: sourceLocation)
        return nil
    }
}

extension Inventory {
    /// Host names in inventory order.
    var hostNames: [String] { hosts.map(\.name) }

    func merged(_ host: String) -> [String: InventoryValue] { vars(of: host)?.merged ?? [:] }
}
