@_spi(Fuzzing) import FWTemplate
import Foundation
import Testing
import TestSupport

/// Inputs the fuzzer (`make fuzz-template`) found or that stress the parser, kept as files in `FuzzRegressions/`.
/// Each runs through `TemplateFuzzTarget.exercise`, exactly as the fuzzer runs it: it must end in output or a located
/// `TemplateError` in every mode, never a crash or a hang.
@Suite struct FuzzRegressionTests {
    static let folder = RepoPaths.directory(of: #filePath).appendingPathComponent("FuzzRegressions")

    static var inputs: [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: folder.path)) ?? []).sorted()
    }

    @Test func thereAreRegressionInputs() {
        #expect(Self.inputs.count >= 5, "no inputs in \(Self.folder.path)")
    }

    @Test(arguments: inputs)
    func inputEndsInOutputOrAnError(file: String) throws {
        let bytes = try Data(contentsOf: Self.folder.appendingPathComponent(file))
        #expect(TemplateFuzzTarget.exercise(Array(bytes)) == [])
    }
}
