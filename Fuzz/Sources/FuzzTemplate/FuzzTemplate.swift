import FWTemplate

/// Tight limits so that every input finishes well inside libFuzzer's -timeout, while still exercising the
/// limit checks themselves.
private let limits = TemplateLimits(
    partialDepth: 16, sectionNesting: 40, renderDepth: 64, outputBytes: 1 << 20, iterations: 20_000)

/// Data with every kind of value, nested objects and lists, and values rules escaping must refuse.
private let data: TemplateValue = [
    "name": "web1", "port": 22, "ratio": 1.5, "on": true, "off": false, "nothing": nil, "empty": "",
    "html": "<b>&\"'</b>", "bad": "a\nb;c", "accent": "caf\u{E9}",
    "list": [1, "two", 3.25, false, ["x", "y"], ["k": "v"]],
    "none": [],
    "rule": ["port": 443, "sources": ["192.0.2.1", "198.51.100.0/24"], "rule": ["deep": "yes"]],
    "rules": [["port": 80, "sources": ["a", "b"]], ["port": 443, "sources": []]],
]

/// Compiles the input as a template named `t`, with itself also available as the partial `p` (so recursion is
/// reachable), and renders it in spec mode and in fwctl's strict rule-safe mode. Errors are fine; crashes,
/// hangs and unbounded memory are not.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzTemplate(_ bytes: UnsafePointer<UInt8>?, _ count: Int) -> Int32 {
    guard let bytes else { return 0 }
    let text = String(decoding: UnsafeBufferPointer(start: bytes, count: count), as: UTF8.self)
    let sources = [TemplateSource(name: "t", text: text), TemplateSource(name: "p", text: text)]
    for base in [TemplateOptions.spec, .fwctl, TemplateOptions(escaping: .none, strict: false)] {
        var options = base
        options.limits = limits
        do {
            let set = try TemplateSet(sources, options: options)
            let output = try set.render("t", data)
            precondition(output.count <= limits.outputBytes + count + 4096, "output limit ignored")
        } catch {
            precondition(!error.description.isEmpty)
        }
    }
    return 0
}

// SwiftPM links an executable with `main` aliased to `<Target>_main`, which a -parse-as-library fuzz target does
// not define; libFuzzer's own `main` is then never used. So define that symbol and hand over to libFuzzer's driver.
@_silgen_name("LLVMFuzzerRunDriver")
private func runFuzzerDriver(
    _ argc: UnsafeMutablePointer<Int32>,
    _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?>,
    _ callback: @convention(c) (UnsafePointer<UInt8>?, Int) -> Int32
) -> Int32

@_cdecl("FuzzTemplate_main")
public func fuzzTemplateMain(
    _ argc: Int32, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?
) -> Int32 {
    var argc = argc
    var argv = argv
    return runFuzzerDriver(&argc, &argv, fuzzTemplate)
}
