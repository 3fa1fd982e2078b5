/// The template engine under fuzzing: what `Fuzz/` (libFuzzer, `make fuzz-template`) runs on every input, and what
/// the fuzz regression tests run on the inputs kept in `Tests/FWTemplateTests/FuzzRegressions/`. Kept in the
/// library so both run exactly the same code on the same data.
@_spi(Fuzzing) public enum TemplateFuzzTarget {
    /// Tight limits so that every input finishes well inside libFuzzer's -timeout, while still exercising the
    /// limit checks themselves.
    static let limits = TemplateLimits(
        partialDepth: 16, sectionNesting: 40, renderDepth: 64, outputBytes: 1 << 20, iterations: 20_000)

    /// Data with every kind of value, nested objects and lists, and values rules escaping must refuse.
    static let data: TemplateValue = [
        "name": "web1", "port": 22, "ratio": 1.5, "on": true, "off": false, "nothing": nil, "empty": "",
        "html": "<b>&\"'</b>", "bad": "a\nb;c", "accent": "caf\u{E9}",
        "list": [1, "two", 3.25, false, ["x", "y"], ["k": "v"]],
        "none": [],
        "rule": ["port": 443, "sources": ["192.0.2.1", "198.51.100.0/24"], "rule": ["deep": "yes"]],
        "rules": [["port": 80, "sources": ["a", "b"]], ["port": 443, "sources": []]],
    ]

    /// Compiles `bytes` as the template `t`, with itself also available as the partial `p` (so recursion is
    /// reachable), and renders it in spec mode, in fwctl's strict rule-safe mode and lenient without escaping.
    /// Each must end in output within the output limit, or in an error with a position and a message; what does
    /// not is returned, described (the fuzzer crashes on it, the tests record it). Crashes and hangs are bugs too.
    public static func exercise(_ bytes: [UInt8]) -> [String] {
        let text = String(decoding: bytes, as: UTF8.self)
        let sources = [TemplateSource(name: "t", text: text), TemplateSource(name: "p", text: text)]
        var problems: [String] = []
        for base in [TemplateOptions.spec, .fwctl, TemplateOptions(escaping: .none, strict: false)] {
            var options = base
            options.limits = limits
            let mode = "\(base.escaping), \(base.strict ? "strict" : "lenient")"
            do {
                let output = try TemplateSet(sources, options: options).render("t", data)
                // The output limit is checked per section iteration: one iteration may add its text beyond it.
                if output.count > limits.outputBytes + bytes.count + 4096 {
                    problems.append("\(mode): \(output.count) bytes of output, beyond the limit")
                }
            } catch {
                if error.line < 1 || error.column < 1 || error.message.isEmpty || error.help.isEmpty {
                    problems.append("\(mode): an error without a position or without help: \(error)")
                }
            }
        }
        return problems
    }
}
