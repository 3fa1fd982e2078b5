@_spi(Fuzzing) import FWPolicy
import Foundation
import Testing
import TestSupport

/// The policy fuzzer's seeds and the inputs it found (`make fuzz-policy`), kept in `FuzzRegressions/`. Each runs
/// through `PolicyFuzzTarget.exercise` exactly as the fuzzer runs it, loading every rendered file with the real
/// tools inside a throwaway namespace.
@Suite(.serialized) struct PolicyFuzzRegressionTests {
    static let folder = RepoPaths.directory(of: #filePath).appendingPathComponent("FuzzRegressions")
    static var inputs: [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: folder.path)) ?? []).sorted()
    }

    @Test func thereAreRegressionInputs() {
        #expect(Self.inputs.count >= 4, "no inputs in \(Self.folder.path)")
    }

    @Test func everyInputRendersCheckedLinesThatLoad() throws {
        try Integration.require(NetfilterLoadTests.requirements)
        let target = try PolicyFuzzTarget(templatesDirectory: RenderFixtures.templates)
        let lab = try NetworkLab()
        defer { lab.shutdown() }
        let host = try lab.addHost("fuzz")
        let files = try TemporaryFolder("fwctl-policy-fuzz")
        defer { files.remove() }
        let loads = LoadCounter()
        for input in Self.inputs {
            let bytes = try Data(contentsOf: Self.folder.appendingPathComponent(input))
            let problems = target.exercise(Array(bytes)) { firewall, rendered in
                loads.increment()
                return NetfilterLoadTests.loadProblems(firewall, rendered, lab: lab, host: host, folder: files)
            }
            #expect(problems == [], "\(input)")
        }
        #expect(loads.value >= Self.inputs.count, "the seeds render and load hosts")
    }

    /// The line check is what catches injection: a line the templates cannot make must be reported.
    @Test func aForeignLineIsReported() throws {
        let shapes = TemplateLineShapes(templates: [
            "-A INPUT{{#address}} -s {{address}}{{/address}} -j ACCEPT\n{{#rules}}\n# {{host}}\n{{/rules}}\nCOMMIT\n",
        ])
        #expect(shapes.firstForeignLine(in: Array("-A INPUT -s 192.0.2.1 -j ACCEPT\n# web1\nCOMMIT\n".utf8)) == nil)
        #expect(shapes.firstForeignLine(in: Array("-A INPUT -j ACCEPT\n".utf8)) == nil)
        #expect(shapes.firstForeignLine(in: Array("-A INPUT -s 1.2.3.4;reboot -j ACCEPT\n".utf8)) != nil)
        #expect(shapes.firstForeignLine(in: Array("-A INPUT -j DROP\n".utf8)) != nil)
        #expect(shapes.firstForeignLine(in: Array("# web1\n-F INPUT\nCOMMIT\n".utf8)) == "-F INPUT")
    }
}

private final class LoadCounter: @unchecked Sendable {
    private let lock = NSLock()
    private var count = 0
    func increment() { lock.withLock { count += 1 } }
    var value: Int { lock.withLock { count } }
}
