import Foundation
import Testing

/// Expected-output files kept next to the tests. `UPDATE_GOLDEN=1` rewrites them; a missing one fails.
public enum Golden {
    public enum Outcome: Equatable, Sendable {
        case matched
        case updated
        case missing(path: String)
        case mismatched(path: String, detail: String)
    }

    public static var updating: Bool { ProcessInfo.processInfo.environment["UPDATE_GOLDEN"] == "1" }

    /// Compares `actual` with the file at `url`, or rewrites it when `update` is true.
    public static func check(_ actual: Data, against url: URL, update: Bool = updating) throws -> Outcome {
        if update {
            try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
            if (try? Data(contentsOf: url)) == actual { return .matched }
            try actual.write(to: url, options: .atomic)
            return .updated
        }
        guard let expected = try? Data(contentsOf: url) else { return .missing(path: url.path) }
        if expected == actual { return .matched }
        return .mismatched(path: url.path, detail: firstDifference(expected: expected, actual: actual))
    }

    /// Describes where two outputs first differ: the line number and both versions of that line.
    public static func firstDifference(expected: Data, actual: Data) -> String {
        let e = String(decoding: expected, as: UTF8.self).split(separator: "\n", omittingEmptySubsequences: false)
        let a = String(decoding: actual, as: UTF8.self).split(separator: "\n", omittingEmptySubsequences: false)
        for i in 0..<max(e.count, a.count) {
            let el = i < e.count ? String(e[i]) : "<end of file>"
            let al = i < a.count ? String(a[i]) : "<end of file>"
            if el != al {
                return "line \(i + 1):\n  expected: \(el.debugDescription)\n  actual:   \(al.debugDescription)"
            }
        }
        return "same lines, different bytes (\(expected.count) expected, \(actual.count) actual)"
    }
}

/// Records a test issue unless `actual` equals the golden file `name` in the `Golden/` folder beside the test.
public func expectGolden(
    _ actual: String,
    named name: String,
    filePath: String = #filePath,
    sourceLocation: SourceLocation = #_sourceLocation
) {
    expectGolden(Data(actual.utf8), named: name, filePath: filePath, sourceLocation: sourceLocation)
}

public func expectGolden(
    _ actual: Data,
    named name: String,
    filePath: String = #filePath,
    sourceLocation: SourceLocation = #_sourceLocation
) {
    let url = RepoPaths.directory(of: filePath).appendingPathComponent("Golden").appendingPathComponent(name)
    do {
        switch try Golden.check(actual, against: url) {
        case .matched, .updated:
            break
        case .missing(let path):
            Issue.record("golden file \(path) is missing; create it with UPDATE_GOLDEN=1 make test", sourceLocation: sourceLocation)
        case .mismatched(let path, let detail):
            Issue.record("output differs from golden file \(path) at \(detail)\n(if the change is intended: UPDATE_GOLDEN=1 make test)", sourceLocation: sourceLocation)
        }
    } catch {
        Issue.record("golden file \(url.path): \(error)", sourceLocation: sourceLocation)
    }
}
