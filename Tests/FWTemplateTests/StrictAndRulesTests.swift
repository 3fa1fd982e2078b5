import FWTemplate
import Testing

/// fwctl's own mode: a missing name is an error, and no value can put a character outside the rule-safe set
/// into a rule file.
@Suite struct StrictModeTests {
    @Test func missingInterpolationIsAnErrorWithItsPosition() throws {
        let error = try #require(renderError("-A INPUT\n-p tcp --dport {{port}}\n", ["proto": "tcp"]))
        #expect(error.kind == .undefinedName)
        #expect((error.line, error.column) == (2, 16))
        #expect(error.file == "main.mustache")
        #expect(error.template == "main")
        #expect(error.message.contains("'port' is not defined"))
        #expect(error.description.hasPrefix("main.mustache:2:16: 'port' is not defined"))
    }

    @Test func missingPartOfADottedNameIsNamed() throws {
        let error = try #require(renderError("{{rule.source.addr}}", ["rule": ["source": ["net": "x"]]]))
        #expect(error.kind == .undefinedName)
        #expect(error.message == "'rule.source.addr' is not defined (strict mode, in {{rule.source.addr}}): 'rule.source' is an object without 'addr'")
        #expect(error.help.contains("define 'addr' in 'rule.source'"))
    }

    @Test func missingSectionNamesAreErrorsButFalsyValuesAreFine() throws {
        #expect(renderError("{{#log}}x{{/log}}")?.kind == .undefinedName)
        #expect(renderError("{{^log}}x{{/log}}")?.kind == .undefinedName)
        #expect(renderError("{{#log}}x{{/log}}")?.help.contains("false, null or []") == true)
        for value: TemplateValue in [false, nil, [], ""] {
            #expect(try render("{{#v}}x{{/v}}{{^v}}y{{/v}}", ["v": value], options: .fwctl) == "y")
        }
    }

    @Test func nullAndListsCannotBeInterpolated() throws {
        #expect(renderError("{{v}}", ["v": nil])?.message == "'v' is null (strict mode)")
        #expect(renderError("{{v}}", ["v": [1]])?.kind == .notText)
        #expect(renderError("{{v}}", ["v": ["k": 1]])?.kind == .notText)
        #expect(renderError("{{v}}", ["v": [1]], options: .spec)?.kind == .notText)
    }

    @Test func lenientModeRendersMissingNamesAsNothing() throws {
        #expect(try render("[{{a}}{{a.b}}{{#s}}x{{/s}}{{^s}}y{{/s}}{{n}}]", ["n": nil]) == "[y]")
    }

    @Test func unknownPartialIsAnErrorWhenTheSetIsBuilt() throws {
        let error = try #require(renderError("a\n  {{> chain}}\n"))
        #expect(error.kind == .unknownPartial)
        #expect((error.line, error.column) == (2, 3))
        #expect(error.message == "unknown partial 'chain'")
        // One named inside a partial is located in that partial's file.
        let inner = try #require(renderError("{{> p}}", [:], partials: ["p": "x\n {{> q}}"]))
        #expect((inner.file, inner.line, inner.column) == ("p.mustache", 2, 2))
        #expect(inner.help == "add q.mustache to the partials folder (known: main, p)")
    }

    @Test func errorsInsidePartialsNameThePartialFile() throws {
        let error = try #require(renderError("{{> p}}", [:], partials: ["p": "ok\n {{x}}"]))
        #expect(error.file == "p.mustache")
        #expect((error.line, error.column) == (2, 2))
    }
}

@Suite struct RuleSafeEscapingTests {
    let allowed = "AZaz09 ._:/-,+@=%"

    @Test func theDocumentedSetIsExactlyWhatIsAllowed() {
        for byte in 0...255 {
            let byte = UInt8(byte)
            let expected = (byte >= 0x41 && byte <= 0x5A) || (byte >= 0x61 && byte <= 0x7A) || (byte >= 0x30 && byte <= 0x39)
                || RuleSafety.allowedPunctuation.utf8.contains(byte)
            #expect(RuleSafety.isAllowed(byte) == expected, "byte \(byte)")
        }
        #expect(RuleSafety.allowedPunctuation == " ._:/-,+@=%")
    }

    @Test func safeValuesRenderUnchanged() throws {
        let data: TemplateValue = ["v": .string(allowed), "n": -3, "d": 0.25, "b": true]
        #expect(try render("{{v}}|{{{v}}}|{{&v}}|{{n}} {{d}} {{b}}", data, options: .fwctl) == "\(allowed)|\(allowed)|\(allowed)|-3 0.25 true")
        #expect(try render("{{v}}", ["v": "2001:db8::1/64"], options: .fwctl) == "2001:db8::1/64")
    }

    @Test(arguments: [
        ("a\nb", #""\n" (U+000A)"#), ("a\rb", #""\r" (U+000D)"#), ("a\0b", #""\0" (U+0000)"#),
        ("x\"y", #""\"" (U+0022)"#), ("x\\y", #""\\" (U+005C)"#), ("a;b", #"";" (U+003B)"#),
        ("#c", ##""#" (U+0023)"##), ("{x}", #""{" (U+007B)"#), ("x}", #""}" (U+007D)"#), ("$x", #""$" (U+0024)"#),
        ("`x`", #""`" (U+0060)"#), ("caf\u{E9}", #""é" (U+00E9)"#), ("a\tb", #""\t" (U+0009)"#),
        ("it's", #""'" (U+0027)"#), ("a\u{1B}[0m", #""\u{1B}" (U+001B)"#), ("a\u{2028}b", #""\u{2028}" (U+2028)"#),
        ("a|b", #""|" (U+007C)"#), ("a!b", #""!" (U+0021)"#),
    ])
    func unsafeValueIsAnErrorNamingTheCharacter(value: String, shown: String) throws {
        for tag in ["{{v}}", "{{{v}}}", "{{&v}}"] {
            let error = try #require(renderError("-A INPUT\n  --comment \(tag)\n", ["v": .string(value)]))
            #expect(error.kind == .unsafeValue)
            #expect((error.line, error.column) == (2, 13))
            #expect(error.message.contains("'v'"))
            #expect(error.message.contains(shown), "\(error.message)")
        }
        #expect(RuleSafety.firstUnsafeCharacter(in: value)?.description == shown)
    }

    @Test func everyTextFormOfANumberIsRuleSafe() throws {
        // Digits, '.', 'e', '+', '-' and the letters of inf and nan: all in the rule-safe set.
        #expect(try render("{{d}}", ["d": .double(.infinity)], options: .fwctl) == "inf")
        #expect(try render("{{d}}", ["d": 1e300], options: .fwctl) == "1e+300")
    }
}
