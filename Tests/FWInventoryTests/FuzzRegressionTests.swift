import Foundation
import Testing
import TestSupport

@_spi(Fuzzing) @testable import FWInventory

/// Inputs the fuzzer (Fuzz/, `make fuzz-inventory`) found to crash or hang the INI parser, kept so they never
/// come back. Each must now parse, and then every view of it work, or fail with an InventoryError naming the line.
@Suite struct FuzzRegressionTests {
    static let directory = RepoPaths.directory(of: #filePath).appendingPathComponent("FuzzRegressions")

    static var inputs: [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: directory.path)) ?? []).filter { !$0.hasPrefix(".") }.sorted()
    }

    @Test func thereAreRegressionInputs() {
        #expect(!Self.inputs.isEmpty, "Tests/FWInventoryTests/FuzzRegressions/ should hold the fuzzer's findings")
    }

    @Test(arguments: inputs)
    func inputEndsInAnInventoryOrALocatedError(_ name: String) throws {
        let data = try Data(contentsOf: Self.directory.appendingPathComponent(name))
        #expect(INIInventoryFuzzTarget.exercise(Array(data)) == [])
    }
}
