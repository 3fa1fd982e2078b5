import Testing
@testable import FWDeploy

struct ScriptReportTests {
    @Test func readsValuesTimesAndTheDiff() {
        let report = ScriptReport("""
            noise
            fwctl:hash=abc
            fwctl:time=validate:12
            fwctl:diff-begin
            --- live
            +++ rendered
            fwctl:diff-end
            fwctl:result=changed
            fwctl:reason=a = b
            """)
        #expect(report.result == "changed")
        #expect(report.reason == "a = b")
        #expect(report["hash"] == "abc")
        #expect(report.stepMilliseconds.map(\.step) == ["validate"])
        #expect(report.stepMilliseconds.map(\.ms) == [12])
        #expect(report.diff == "--- live\n+++ rendered\n")
    }

    @Test func batchSizes() {
        #expect(BatchSize("5") == .count(5))
        #expect(BatchSize("25%") == .percent(25))
        #expect(BatchSize("0") == nil)
        #expect(BatchSize("101%") == nil)
        #expect(BatchSize("x") == nil)
    }

    @Test func stateDirectoriesArePlainAbsolutePaths() throws {
        try HostScripts.checkStateDirectory("/var/lib/fwctl")
        for bad in ["var/lib", "/", "/var/../etc", "/var/lib/fw ctl", "/var/lib/$(x)", "/var//lib", "/a'b"] {
            #expect(throws: DeployError.self, "\(bad)") { try HostScripts.checkStateDirectory(bad) }
        }
    }
}
