import FWTemplate
import Testing

/// No template or data can crash, hang, or recurse without bound: each limit ends in a clear error.
@Suite struct LimitTests {
    @Test func recursivePartialNamesTheChainAndTheLimit() throws {
        var options = TemplateOptions.spec
        options.limits.partialDepth = 10
        let error = try #require(renderError("{{>loop}}", [:], partials: ["loop": "x{{>loop}}"], options: options))
        #expect(error.kind == .limitExceeded)
        #expect(error.message.hasPrefix("partials nest deeper than 10 levels: main > loop > loop > loop > ... > loop"))
        #expect(error.file == "loop.mustache")
    }

    @Test func mutualRecursionIsCaughtWithTheDefaultLimits() throws {
        // With t missing (lenient), b renders nothing: no recursion.
        #expect(try render("{{>a}}", [:], partials: ["a": "{{>b}}", "b": "{{#t}}{{>a}}{{/t}}"]) == "")
        let looping = try #require(
            renderError("{{>a}}", ["t": true], partials: ["a": "{{>b}}", "b": "{{#t}}{{>a}}{{/t}}"], options: .spec))
        #expect(looping.kind == .limitExceeded)
        #expect(looping.message.contains("a > b > a"))
    }

    @Test func deepSectionNestingInTheTextIsRefused() throws {
        let deep = String(repeating: "{{#a}}", count: 101) + String(repeating: "{{/a}}", count: 101)
        let error = try #require(renderError(deep, [:], options: .spec))
        #expect(error.kind == .syntax)
        #expect(error.message == "sections nest deeper than 100 levels")
        let fine = String(repeating: "{{#a}}", count: 100) + "x" + String(repeating: "{{/a}}", count: 100)
        #expect(try render(fine, ["a": true]) == "x")
    }

    @Test func exponentialSectionsStopAtTheIterationLimit() throws {
        let nested = String(repeating: "{{#l}}", count: 40) + String(repeating: "{{/l}}", count: 40)
        var options = TemplateOptions.spec
        options.limits.iterations = 2_000_000
        let error = try #require(renderError(nested, ["l": [1, 2, 3]], options: options))
        #expect(error.kind == .limitExceeded)
        #expect(error.message.contains("section iterations"))
    }

    @Test func exponentialPartialsStopToo() throws {
        var partials: [String: String] = [:]
        for level in 0..<40 { partials["p\(level)"] = String(repeating: "{{>p\(level + 1)}}", count: 4) }
        partials["p40"] = "x"
        var options = TemplateOptions.spec
        options.limits.iterations = 100_000
        let error = try #require(renderError("{{>p0}}", [:], partials: partials, options: options))
        #expect(error.kind == .limitExceeded)
    }

    @Test func outputSizeIsBounded() throws {
        var options = TemplateOptions.spec
        options.limits.outputBytes = 10_000
        let error = try #require(renderError("{{#l}}{{#l}}0123456789{{/l}}{{/l}}", ["l": .list(Array(repeating: 1, count: 100))], options: options))
        #expect(error.message.contains("beyond 10000 bytes"))
    }

    @Test func renderDepthIsBoundedForNestedDataToo() throws {
        var options = TemplateOptions.spec
        options.limits.renderDepth = 20
        var tree: TemplateValue = ["kids": []]
        for _ in 0..<30 { tree = ["kids": [tree]] }
        let error = try #require(
            renderError("{{>n}}", tree, partials: ["n": "({{#kids}}{{>n}}{{/kids}})"], options: options))
        #expect(error.message == "sections and partials nest deeper than 20 levels")
    }

    @Test func pathologicalInputsEndInErrorsOrOutput() throws {
        let inputs = [
            String(repeating: "{{", count: 100_000),
            String(repeating: "{{{", count: 50_000),
            String(repeating: "{{=", count: 30_000),
            String(repeating: "}}", count: 100_000),
            String(repeating: "{{!", count: 50_000) + "}}",
            "{{=| |=}}" + String(repeating: "|", count: 100_001),
            "{{=\u{0} \u{0}=}}\u{0}x\u{0}",
            String(repeating: "{{#a}}{{/a}}", count: 50_000),
            String(repeating: "x", count: 3_000_000) + "{{",
        ]
        for input in inputs {
            do {
                _ = try render(input, ["a": true])
            } catch let error as TemplateError {
                // Every such error points into the template (the description alone is never empty: it has the file).
                #expect(error.line >= 1 && error.column >= 1, "\(error)")
            }
        }
    }

    @Test func largeTemplatesCompileAndRenderLinearly() throws {
        let line = "-A INPUT -s {{.}} -j ACCEPT\n"
        let text = "{{#l}}\n" + String(repeating: line, count: 100_000) + "{{/l}}\n"
        let output = try render(text, ["l": ["192.0.2.1"]], options: .fwctl)
        #expect(output.utf8.count == 100_000 * "-A INPUT -s 192.0.2.1 -j ACCEPT\n".utf8.count)
    }
}

/// The output bound holds for every write, not only inside sections: one large value interpolated many times
/// stops at the limit with an error, and the buffer never grows past it.
@Suite struct OutputBoundTests {
    @Test(arguments: [TemplateOptions.spec, .fwctl, TemplateOptions(escaping: .none, strict: false)])
    func manyInterpolationsOfALargeValueStopAtTheLimit(_ base: TemplateOptions) throws {
        var options = base
        options.limits.outputBytes = 1 << 20
        let template = String(repeating: "{{v}}", count: 2_000)
        let error = try #require(renderError(template, ["v": .string(String(repeating: "a", count: 100_000))], options: options))
        #expect(error.kind == .limitExceeded)
        #expect(error.message.contains("beyond 1048576 bytes"), "\(error)")
        #expect(error.line == 1 && error.column > 1, "the error points at the interpolation that passed the limit")
    }

    @Test func outputJustWithinTheLimitRenders() throws {
        var options = TemplateOptions.spec
        options.limits.outputBytes = 1_000
        #expect(try render(String(repeating: "{{v}}", count: 10), ["v": .string(String(repeating: "b", count: 100))], options: options).count == 1_000)
        #expect(renderError("x" + String(repeating: "{{v}}", count: 10), ["v": .string(String(repeating: "b", count: 100))], options: options)?.kind == .limitExceeded)
    }

    /// Text that passes the limit is reported as the limit, even when the tag right after it would fail too:
    /// the size is the cause, not the data.
    @Test func textOverTheLimitIsReportedBeforeTheNextTag() throws {
        var options = TemplateOptions.spec
        options.limits.outputBytes = 6
        for data: TemplateValue in [["x": ["k": 1]], ["x": "fine"], [:]] {
            #expect(renderError("0123456789{{x}}", data, options: options)?.kind == .limitExceeded, "\(data)")
        }
    }
}
