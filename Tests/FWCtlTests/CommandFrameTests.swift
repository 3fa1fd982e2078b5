import Foundation
import Testing
import TestSupport

/// The built `fwctl` binary, run as a user runs it.
@Suite struct CommandFrameTests {
    let fwctl = RepoPaths.fwctl.path

    @Test func helpListsExitStatusesAndMatchesGolden() throws {
        let result = try runProcess(fwctl, ["--help"])
        #expect(result.status == 0)
        #expect(result.stdoutText.contains("USAGE: fwctl"))
        #expect(result.stdoutText.contains("2   invalid input"))
        expectGolden(result.stdoutText, named: "help.txt")
    }

    @Test func versionPrintsTheVersionOnStdout() throws {
        let result = try runProcess(fwctl, ["--version"])
        #expect(result.status == 0)
        let version = result.stdoutText.trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(version.split(separator: ".").count == 3, "version \(version) is not MAJOR.MINOR.PATCH")
        #expect(version.allSatisfy { $0.isNumber || $0 == "." })
        #expect(result.stderr.isEmpty)
    }

    @Test func unknownOptionIsAUsageErrorWithStatus64() throws {
        let result = try runProcess(fwctl, ["--no-such-option"])
        #expect(result.status == 64)
        #expect(result.stderrText.contains("--no-such-option"))
        #expect(result.stdout.isEmpty)
    }

    @Test func unknownSubcommandIsAUsageError() throws {
        let result = try runProcess(fwctl, ["frobnicate"])
        #expect(result.status == 64)
        #expect(result.stderrText.contains("frobnicate"))
    }
}

/// The golden-file helper itself: a missing file must fail, a changed file must fail with the line.
@Suite struct GoldenHelperTests {
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent("fwctl-golden-\(UUID().uuidString)")

    @Test func missingGoldenFileIsReportedNotCreated() throws {
        let url = dir.appendingPathComponent("absent.txt")
        let outcome = try Golden.check(Data("x\n".utf8), against: url, update: false)
        #expect(outcome == .missing(path: url.path))
        #expect(!FileManager.default.fileExists(atPath: url.path))
    }

    @Test func mismatchNamesTheFirstDifferingLine() throws {
        let url = dir.appendingPathComponent("differs.txt")
        #expect(try Golden.check(Data("a\nb\nc\n".utf8), against: url, update: true) == .updated)
        let outcome = try Golden.check(Data("a\nB\nc\n".utf8), against: url, update: false)
        guard case .mismatched(_, let detail) = outcome else {
            Issue.record("expected a mismatch, got \(outcome)")
            return
        }
        #expect(detail.hasPrefix("line 2:"))
        #expect(try Golden.check(Data("a\nb\nc\n".utf8), against: url, update: false) == .matched)
        try? FileManager.default.removeItem(at: dir)
    }
}
