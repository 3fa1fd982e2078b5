import FWTemplate
import Testing

/// The Mustache features the spec suite covers, checked here without it (a user's clone has no suite).
@Suite struct MustacheFeatureTests {
    @Test func interpolatesNamesAndEscapesHTML() throws {
        let data: TemplateValue = ["name": "web1", "h": "<&\"'>"]
        #expect(try render("Hello {{name}}, {{ name }}!", data) == "Hello web1, web1!")
        #expect(try render("{{h}}|{{{h}}}|{{&h}}|{{{ h }}}", data) == "&lt;&amp;&quot;&#39;&gt;|<&\"'>|<&\"'>|<&\"'>")
    }

    @Test func writesNumbersAndBooleans() throws {
        let data: TemplateValue = ["i": -42, "big": .int(Int.max), "d": 1.5, "whole": 2.0, "t": true, "f": false]
        #expect(try render("{{i}} {{big}} {{d}} {{whole}} {{t}} {{f}}", data) == "-42 9223372036854775807 1.5 2 true false")
    }

    @Test func standaloneLinesDisappearWithTheirNewline() throws {
        let template = "a\n  {{#s}}\n  b\n  {{/s}}\n\t{{! note }}  \n  {{^s}}\nno\n{{/s}}\nc"
        #expect(try render(template, ["s": true]) == "a\n  b\nc")
        #expect(try render(template, ["s": false]) == "a\nno\nc")
        // Not standalone when other text shares the line.
        #expect(try render("x {{#s}}\ny{{/s}} z", ["s": true]) == "x \ny z")
    }

    @Test func crlfLineEndingsAreStandaloneLineEnds() throws {
        #expect(try render("|\r\n{{#b}}\r\nin\r\n{{/b}}\r\n|", ["b": true]) == "|\r\nin\r\n|")
        #expect(try render("|\r\n{{! c }}\r\n|") == "|\r\n|")
        // A lone \r is not a line end.
        #expect(try render("|\r{{#b}}\r|{{/b}}", ["b": true]) == "|\r\r|")
    }

    @Test func standaloneTagAtEndOfFileWithoutNewline() throws {
        #expect(try render("a\n{{#b}}\nx\n{{/b}}", ["b": true]) == "a\nx\n")
        #expect(try render("a\n{{! end }}") == "a\n")
        #expect(try render("a\n  {{=<% %>=}}") == "a\n")
    }

    @Test func dottedNamesResolveFromTheFirstPartOnly() throws {
        let data: TemplateValue = ["a": ["b": ["c": "deep"]], "b": ["c": "wrong"]]
        #expect(try render("{{a.b.c}}", data) == "deep")
        #expect(try render("{{#a.b}}{{c}}{{/a.b}}", data) == "deep")
        // a has b, so b.c is looked up in a.b only: context precedence, no fallback to the root's b.
        #expect(try render("{{#a}}{{b.c}}{{/a}}", ["a": ["b": [:]], "b": ["c": "ERROR"]]) == "")
        #expect(try render("{{a.x.c}}", data) == "")
    }

    @Test func implicitIteratorWalksListsOfAnyValue() throws {
        let data: TemplateValue = ["l": [1, "x", 2.5, true], "ll": [["a", "b"], ["c"]], "s": "str"]
        #expect(try render("{{#l}}({{.}}){{/l}}", data) == "(1)(x)(2.5)(true)")
        #expect(try render("{{#ll}}[{{#.}}{{.}}{{/.}}]{{/ll}}", data) == "[ab][c]")
        #expect(try render("{{#s}}<{{.}}>{{/s}}", data) == "<str>")
        #expect(try render("{{.}}", "root") == "root")
    }

    @Test func sectionsOverObjectsPushAContextAndInnerNamesShadowOuterOnes() throws {
        let data: TemplateValue = [
            "chain": "INPUT", "port": 1,
            "rules": [["port": 22, "sources": ["192.0.2.1", "192.0.2.2"]], ["port": 80, "sources": []]],
            "rule": ["port": 443],
        ]
        let template = "{{#rules}}{{#sources}}{{chain}} {{.}} {{port}};{{/sources}}{{/rules}}|{{#rule}}{{port}}{{/rule}} {{port}}"
        #expect(try render(template, data) == "INPUT 192.0.2.1 22;INPUT 192.0.2.2 22;|443 1")
    }

    @Test func truthinessOfEachKindOfValue() throws {
        let cases: [(TemplateValue, Bool)] = [
            (nil, false), (false, false), (true, true), (0, true), (0.0, true), ("", false), ("x", true),
            ([], false), ([0], true), ([:], true),
        ]
        for (value, truthy) in cases {
            #expect(try render("{{#v}}Y{{/v}}{{^v}}N{{/v}}", ["v": value]) == (truthy ? "Y" : "N"), "\(value)")
            #expect(value.isTruthy == truthy)
        }
    }

    @Test func invertedSectionsRenderForMissingAndFalsyOnly() throws {
        let data: TemplateValue = ["f": false, "l": [], "t": true]
        #expect(try render("{{^f}}a{{/f}}{{^l}}b{{/l}}{{^t}}c{{/t}}{{^missing}}d{{/missing}}", data) == "abd")
    }

    @Test func commentsVanishIncludingMultilineStandaloneOnes() throws {
        #expect(try render("a{{! c }}b\n{{!\nmulti\nline\n}}\nc{{!}}") == "ab\nc")
    }

    @Test func setDelimitersChangeTagsUntilChangedBack() throws {
        let data: TemplateValue = ["a": 1, "l": [1, 2]]
        #expect(try render("{{=<% %>=}}<%a%> {{a}} <%#l%>(<%.%>)<%/l%><%={{ }}=%>{{a}}", data) == "1 {{a}} (1)(2)1")
        #expect(try render("{{=| |=}}|{a}| |&a|", data) == "1 1")
        // Partials keep the default delimiters whatever the including template set.
        #expect(try render("{{=[ ]=}}[>p]", data, partials: ["p": "{{a}}"]) == "1")
    }

    @Test func partialsAreIndentedWhenStandalone() throws {
        let partials = ["p": "a\n{{v}}\n{{#l}}\n- {{.}}\n{{/l}}\nb\n"]
        let data: TemplateValue = ["v": "1\n2", "l": ["x", "y"]]
        // Each line of the partial gets the indentation; a newline inside a value does not.
        #expect(try render("x\n  {{>p}}\ny", data, partials: partials) == "x\n  a\n  1\n2\n  - x\n  - y\n  b\ny")
        // Inline partials are not indented.
        #expect(try render("x {{>p}}", ["v": "1", "l": []], partials: partials) == "x a\n1\nb\n")
    }

    @Test func nestedStandalonePartialsAddTheirIndentation() throws {
        let partials = ["outer": "o\n  {{>inner}}\n", "inner": "i1\ni2\n"]
        #expect(try render("  {{>outer}}", partials: partials) == "  o\n    i1\n    i2\n")
    }

    @Test func recursivePartialsStopWhenTheDataRunsOut() throws {
        let tree: TemplateValue = ["name": "a", "kids": [["name": "b", "kids": [["name": "c", "kids": []]]]]]
        #expect(try render("{{>node}}", tree, partials: ["node": "{{name}}({{#kids}}{{>node}}{{/kids}})"]) == "a(b(c()))")
    }

    @Test func missingPartialRendersNothingWhenLenient() throws {
        #expect(try render("[{{>nope}}]") == "[]")
    }

    @Test func escapingNoneWritesValuesAsTheyAre() throws {
        let options = TemplateOptions(escaping: .none, strict: true)
        #expect(try render("{{v}}|{{{v}}}", ["v": "<a&b>\n"], options: options) == "<a&b>\n|<a&b>\n")
    }

    @Test func dynamicPartialsIncludeThePartialNamedByAValue() throws {
        let partials = ["iptables": "-A {{chain}}\n", "nft": "add rule {{chain}}\n"]
        #expect(try render("{{#targets}}\n  {{>*format}}\n{{/targets}}", ["chain": "INPUT", "targets": [["format": "iptables"], ["format": "nft"]]], partials: partials, options: .fwctl)
            == "  -A INPUT\n  add rule INPUT\n")
        #expect(try render("[{{>*missing}}{{>*n}}]", ["n": "nope"], partials: partials) == "[]")
    }

    @Test func dynamicPartialsAreCheckedInStrictMode() throws {
        let partials = ["p": "x"]
        #expect(renderError("{{>*missing}}", [:], partials: partials)?.kind == .undefinedName)
        #expect(renderError("{{>*n}}", ["n": 3], partials: partials)?.message == "'n' is an integer, not the name of a partial")
        let unknown = try #require(renderError("a\n {{>*n}}", ["n": "nope"], partials: partials))
        #expect(unknown.kind == .unknownPartial)
        #expect((unknown.line, unknown.column) == (2, 2))
        #expect(unknown.message == "unknown partial 'nope' (the value of 'n')")
    }
}
