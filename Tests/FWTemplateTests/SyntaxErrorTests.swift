import FWTemplate
import Testing

/// Bad template text: every error names the file, line and column and says what to do.
@Suite struct SyntaxErrorTests {
    func syntaxError(_ text: String) throws -> TemplateError {
        let error = try #require(renderError(text, [:], options: .spec))
        #expect(error.kind == .syntax)
        #expect(!error.help.isEmpty)
        return error
    }

    @Test func unclosedTag() throws {
        let error = try syntaxError("ab\n  {{x")
        #expect((error.line, error.column) == (2, 3))
        #expect(error.message == "tag '{{' is never closed with '}}'")
        #expect(try syntaxError("{{{x}}").message == "tag '{{' is never closed with '}}}'")
        #expect(try syntaxError("{{=<% %>=}}<%x").message == "tag '<%' is never closed with '%>'")
    }

    @Test func unclosedSectionPointsAtItsOpeningTag() throws {
        let error = try syntaxError("x\n {{#rules}}\n{{#a}}{{/a}}")
        #expect((error.line, error.column) == (2, 2))
        #expect(error.message == "section 'rules' is never closed")
        #expect(error.help == "add {{/rules}} where it ends")
    }

    @Test func mismatchedAndStrayCloses() throws {
        let error = try syntaxError("{{#a}}\n{{#b}}{{/a}}")
        #expect((error.line, error.column) == (2, 7))
        #expect(error.message.contains("{{/a}} does not match the open section 'b' (line 2, column 1)"))
        #expect(try syntaxError("x{{/a}}").message == "{{/a}} closes a section that is not open")
    }

    @Test(arguments: ["{{=a=}}", "{{= a b c =}}", "{{=<% %>}}", "{{=<= =>=}}", "{{= =}}",
                      "{{=\(String(repeating: "<", count: 33)) >=}}"])
    func badDelimiterTags(text: String) throws {
        let error = try syntaxError(text)
        #expect((error.line, error.column) == (1, 1))
    }

    @Test(arguments: ["{{}}", "{{ }}", "{{#}}{{/}}", "{{a b}}", "{{a..b}}", "{{.a}}", "{{a.}}", "{{>}}", "{{> a b}}"])
    func badNames(text: String) throws {
        _ = try syntaxError(text)
    }

    @Test func inheritanceTagsAreRefusedClearly() throws {
        #expect(try syntaxError("{{<parent}}{{/parent}}").message.contains("not supported"))
        #expect(try syntaxError("{{$block}}{{/block}}").message.contains("not supported"))
    }

    @Test func columnsCountCharactersNotBytes() throws {
        let error = try #require(renderError("é€{{x}}", [:]))
        #expect((error.line, error.column) == (1, 3))
    }

    @Test func descriptionIsFileLineColumnMessageAndHelp() throws {
        let error = try syntaxError("{{#a}}")
        #expect(error.description == "main.mustache:1:1: section 'a' is never closed; add {{/a}} where it ends")
    }
}
