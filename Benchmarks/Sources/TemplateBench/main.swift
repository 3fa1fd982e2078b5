// Renders the same iptables-like rule template with the same data through FWTemplate and through
// hummingbird-project/swift-mustache, each compiled once and rendered many times, and reports output MB/s and
// µs per render (median of several timed runs after a warm-up). Writes the data as JSON and each engine's
// output, so bench_jinja2.py can render Jinja2 and chevron on the same data and compare the bytes.
//
// usage: TemplateBench TEMPLATE_DIR OUT_DIR [--profile=RENDERS]
// With --profile=RENDERS it only renders with FWTemplate that many times and writes nothing, for a profiler.
import FWTemplate
import Foundation
import Mustache

let arguments = CommandLine.arguments
let profileRenders = arguments.count == 4 && arguments[3].hasPrefix("--profile=")
    ? Int(arguments[3].dropFirst("--profile=".count)) : nil
guard arguments.count == 3 || profileRenders != nil else {
    FileHandle.standardError.write(Data("usage: TemplateBench TEMPLATE_DIR OUT_DIR [--profile=RENDERS]\n".utf8))
    exit(64)
}
let templateDir = arguments[1]
let outDir = URL(fileURLWithPath: arguments[2])

// MARK: Data: 100 rules x 50 sources, built the way fwctl's policy renderer builds its data: objects with the keys
// of a TemplateObject.Layout.

let ruleCount = 100, sourcesPerRule = 50
let rootLayout = TemplateObject.Layout(["host", "chain", "rules"])
let ruleLayout = TemplateObject.Layout(["name", "comment", "proto", "port", "log", "sources"])

func buildData() -> TemplateValue {
    var rules: [TemplateValue] = []
    rules.reserveCapacity(ruleCount)
    for i in 0..<ruleCount {
        var sources: [TemplateValue] = []
        sources.reserveCapacity(sourcesPerRule)
        for j in 0..<sourcesPerRule {
            sources.append(.string(i % 2 == 0 ? "198.51.\(i).\(j * 4)/30" : "203.0.113.\(j)/32"))
        }
        rules.append(.object(TemplateObject(ruleLayout, [
            .string("svc-\(i < 10 ? "00" : i < 100 ? "0" : "")\(i)"),
            .string("service \(i) from the inventory"),
            i % 3 == 0 ? "udp" : "tcp",
            .int(1000 + i * 7),
            .bool(i % 10 == 0),
            .list(sources),
        ])))
    }
    return .object(TemplateObject(rootLayout, ["web1.example.net", "INPUT", .list(rules)]))
}

/// The same data as plain Foundation values, for swift-mustache and for the JSON file.
func foundationValue(_ value: TemplateValue) -> Any {
    switch value {
    case .null: return NSNull()
    case .bool(let b): return b
    case .int(let i): return i
    case .double(let d): return d
    case .string(let s): return s
    case .list(let items): return items.map(foundationValue)
    case .object(let object): return Dictionary(uniqueKeysWithValues: object.pairs.map { ($0.key, foundationValue($0.value)) })
    }
}

let data = buildData()

// FWTemplate: strict, rule-safe (fwctl's mode for its own files).
let set = try TemplateSet(directory: templateDir, options: .fwctl)
let template = try set.template(named: "rules.v4")
if let profileRenders {
    for _ in 0..<profileRenders { _ = try template.render(data) }
    exit(0)
}

try FileManager.default.createDirectory(at: outDir, withIntermediateDirectories: true)
let anyData = foundationValue(data)
try JSONSerialization.data(withJSONObject: anyData, options: [.sortedKeys]).write(to: outDir.appendingPathComponent("data.json"))

// MARK: Timing

struct Result: Codable {
    var engine: String
    var bytes: Int
    var microsecondsPerRender: Double
    var megabytesPerSecond: Double
}

func now() -> UInt64 { DispatchTime.now().uptimeNanoseconds }

/// Median time per render over `runs` runs, each long enough (>= ~0.2 s) to time reliably, after a warm-up.
func measure(_ engine: String, runs: Int = 7, _ render: () throws -> Int) rethrows -> Result {
    var bytes = 0
    let warmStart = now()
    var warmups = 0
    while warmups < 3 || now() - warmStart < 300_000_000 {
        bytes = try render()
        warmups += 1
    }
    let perRender = Double(now() - warmStart) / Double(warmups)
    let rendersPerRun = max(1, Int(200_000_000 / perRender))
    var samples: [Double] = []
    for _ in 0..<runs {
        let start = now()
        for _ in 0..<rendersPerRun { bytes = try render() }
        samples.append(Double(now() - start) / Double(rendersPerRun))
    }
    samples.sort()
    let median = samples[samples.count / 2]
    return Result(
        engine: engine, bytes: bytes, microsecondsPerRender: median / 1000,
        megabytesPerSecond: Double(bytes) / (median / 1e9) / 1e6)
}

var results: [Result] = []

let fwOutput = try template.render(data)
try Data(fwOutput).write(to: outDir.appendingPathComponent("fwtemplate.txt"))
results.append(try measure("FWTemplate (strict, rules)") { try template.render(data).count })

// swift-mustache 2.1.1 on the same templates (it escapes HTML; the values have no HTML-special characters).
var library = MustacheLibrary()
for name in ["rules.v4", "rule"] {
    let text = try String(contentsOfFile: "\(templateDir)/\(name).mustache", encoding: .utf8)
    try library.register(text, named: name)
}
let smOutput = library.render(anyData, withTemplate: "rules.v4") ?? ""
try Data(smOutput.utf8).write(to: outDir.appendingPathComponent("swift-mustache.txt"))
results.append(measure("swift-mustache 2.1.1") { library.render(anyData, withTemplate: "rules.v4")?.utf8.count ?? 0 })

let same = Array(smOutput.utf8) == fwOutput
FileHandle.standardError.write(Data("TemplateBench: FWTemplate and swift-mustache outputs are \(same ? "byte-identical" : "DIFFERENT") (\(fwOutput.count) bytes)\n".utf8))

let encoder = JSONEncoder()
encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
try encoder.encode(results).write(to: outDir.appendingPathComponent("swift-results.json"))
for result in results {
    print(String(format: "%-28@ %8.1f MB/s %10.1f µs/render %8d bytes", result.engine as NSString, result.megabytesPerSecond, result.microsecondsPerRender, result.bytes))
}
