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

/// A temporary directory unique to one test, removed by `cleanup()`.
struct TemporaryDirectory {
    let url: URL

    init(_ label: String = "inv") throws {
        url = FileManager.default.temporaryDirectory
            .appendingPathComponent("fwctl-\(label)-\(getpid())-\(UniqueNumber.next())")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    }

    var path: String { url.path }

    /// Writes `text` to `relative` (creating folders), optionally executable.
    @discardableResult
    func write(_ relative: String, _ text: String, executable: Bool = false) throws -> String {
        let file = url.appendingPathComponent(relative)
        try FileManager.default.createDirectory(at: file.deletingLastPathComponent(), withIntermediateDirectories: true)
        try Data(text.utf8).write(to: file)
        if executable { try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: file.path) }
        return file.path
    }

    func cleanup() {
        try? FileManager.default.removeItem(at: url)
    }

}

/// Parses INI text, recording the error as a test issue when it fails.
func ini(_ text: String, sourceLocation: Testing.SourceLocation = #_sourceLocation) throws -> Inventory {
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
