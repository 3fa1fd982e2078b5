/// What an on-host script reported: its `fwctl:KEY=VALUE` lines, and the diff between `fwctl:diff-begin` and
/// `fwctl:diff-end`. Anything else on stdout is ignored.
public struct ScriptReport: Sendable, Equatable {
    public var values: [String: String] = [:]
    /// Steps and their milliseconds on the host, in order (`fwctl:time=STEP:MS`).
    public var stepMilliseconds: [(step: String, ms: Int)] = []
    public var diff: String?

    public init(_ output: String) {
        var diffLines: [Substring]?
        for line in output.split(separator: "\n", omittingEmptySubsequences: false) {
            if line == "fwctl:diff-begin" { diffLines = []; continue }
            if line == "fwctl:diff-end" { diff = diffLines.map { $0.joined(separator: "\n") + ($0.isEmpty ? "" : "\n") }; diffLines = nil; continue }
            if diffLines != nil { diffLines!.append(line); continue }
            guard line.hasPrefix("fwctl:") else { continue }
            let body = line.dropFirst(6)
            let key = body.prefix { $0 != "=" }
            let value = body.dropFirst(key.count + 1)
            if key == "time", let colon = value.lastIndex(of: ":"), let ms = Int(value[value.index(after: colon)...]) {
                stepMilliseconds.append((String(value[..<colon]), ms))
            } else {
                values[String(key)] = String(value)
            }
        }
    }

    public var result: String? { values["result"] }
    public var reason: String? { values["reason"] }
    public subscript(key: String) -> String? { values[key] }

    public static func == (lhs: ScriptReport, rhs: ScriptReport) -> Bool {
        lhs.values == rhs.values && lhs.diff == rhs.diff
            && lhs.stepMilliseconds.map(\.step) == rhs.stepMilliseconds.map(\.step)
            && lhs.stepMilliseconds.map(\.ms) == rhs.stepMilliseconds.map(\.ms)
    }
}
