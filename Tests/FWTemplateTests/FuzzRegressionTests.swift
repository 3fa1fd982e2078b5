import FWTemplate
import Foundation
import Testing
import TestSupport

/// Inputs the fuzzer (`make fuzz-template`) found or that stress the parser, kept as files in `FuzzRegressions/`.
/// Each is compiled and rendered the way FuzzTemplate does (as template `t` and partial `p`, in spec, fwctl
/// and no-escape modes): it must end in output or a `TemplateError`, never a crash or a hang.
@Suite struct FuzzRegressionTests {
    static let folder = RepoPaths.directory(of: #filePath).appendingPathComponent("FuzzRegressions")

    static var inputs: [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: folder.path)) ?? []).sorted()
    }

    static let data: TemplateValue = [
        "name": "web1", "port": 22, "on": true, "off": false, "nothing": nil, "empty": "", "bad": "a\nb;c",
        "list": [1, "two", 3.25, false, ["x", "y"], ["k": "v"]], "none": [],
        "rule": ["port": 443, "sources": ["192.0.2.1"], "rule": ["deep": "yes"]],
    ]

    @Test func thereAreRegressionInputs() {
        #expect(Self.inputs.count >= 5, "no inputs in \(Self.folder.path)")
    }

    @Test(arguments: inputs)
    func inputEndsInOutputOrAnError(file: String) throws {
        let text = String(decoding: try Data(contentsOf: Self.folder.appendingPathComponent(file)), as: UTF8.self)
        let limits = TemplateLimits(partialDepth: 16, sectionNesting: 40, renderDepth: 64, outputBytes: 1 << 20, iterations: 20_000)
        var outcomes: [String] = []
        for base in [TemplateOptions.spec, .fwctl, TemplateOptions(escaping: .none, strict: false)] {
            var options = base
            options.limits = limits
            do {
                let set = try TemplateSet(
                    [TemplateSource(name: "t", text: text), TemplateSource(name: "p", text: text)], options: options)
                let output = try set.render("t", Self.data)
                #expect(output.count <= limits.outputBytes + text.utf8.count + 4096)
                outcomes.append("output")
            } catch {
                #expect(!error.description.isEmpty)
                #expect(error.line >= 0 && error.column >= 0)
                outcomes.append("\(error.kind)")
            }
        }
        #expect(outcomes.count == 3)
    }
}
