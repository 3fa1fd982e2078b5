import Testing

@testable import FWInventory

/// INI values are typed with Python's `ast.literal_eval`; each expectation here was checked against Python 3.11.
@Suite struct PythonLiteralTests {
    static let literals: [(String, InventoryValue)] = [
        ("8080", 8080), ("-5", -5), ("+5", 5), ("- 1", -1), ("-(1)", -1), ("1_000", 1000), ("0x_1f", 31),
        ("0x10", 16), ("0o17", 15), ("0b101", 5), ("00", 0), ("0_0", 0),
        ("1.5", 1.5), ("1.", 1.0), (".5", 0.5), ("1e3", 1000.0), ("1E+5", 100000.0), ("1e1_0", 1e10),
        ("09.5", 9.5), ("0e0", 0.0), ("1_000.000_1", 1000.0001), ("1e400", .double(.infinity)),
        ("True", true), ("False", false), ("None", nil),
        ("'x y'", "x y"), ("\"8080\"", "8080"), ("'a' \"b\"", "ab"), ("u'x'", "x"), ("r'\\n'", "\\n"),
        ("'\\x41\\u00e9\\n'", "A\u{e9}\n"), ("'\\q'", "\\q"), ("\"\"\"a\"b\"\"\"", "a\"b"), ("b'xy'", "xy"),
        ("rb'x'", "x"), ("'\\101'", "A"),
        ("[1, 2]", [1, 2]), ("[1,2,]", [1, 2]), ("(1, 2)", [1, 2]), ("(1,)", [1]), ("()", []), ("(1)", 1),
        ("[[[]]]", [[[]]]), ("{}", [:]), ("{'k': None}", ["k": nil]), ("{1: 'a', True: 'b'}", ["1": "b"]),
        ("{'a': [1, {'b': 2.5}]}", ["a": [1, ["b": 2.5]]]), ("set()", []), ("{1, 1, 2}", [1, 2]),
        ("...", "..."), ("[..., 1]", ["...", 1]), ("1j", "1j"), ("-1j", "(-0-1j)"), ("1+2j", "(1+2j)"),
        ("1-1.5j", "(1-1.5j)"), (".5j", "0.5j"), ("1e-5j", "1e-05j"),
        ("1 # comment", 1), ("\t1", 1), ("[1,\n 2]", [1, 2]),
    ]

    @Test(arguments: literals)
    func literalIsTyped(_ text: String, _ expected: InventoryValue) throws {
        #expect(try PythonLiteral.ansibleValue(of: Substring(text)) == expected)
    }

    /// Not literals (names, syntax errors, expressions): the text itself is the value.
    static let nonLiterals = [
        "true", "yes", "abc", "10.0.0.1", "1 2", "a b", "0123", "09", "0_7", "1_", "1__0", "0b", "0o8", "1.5e", "0e",
        "1j2", "--5", "-True", "1 + 1", "[1, 2", "f'x'", "ur'x'", "b'a' 'b'", "Ellipsis", "not 1", "1 .real",
        "{,}", "[,]", "(,)", "set(1)", "'\\N{BULLET}'", "x=1", "http://x", "", "'unterminated",
        String(repeating: "[", count: 201) + String(repeating: "]", count: 201),
    ]

    @Test(arguments: nonLiterals)
    func nonLiteralStaysText(_ text: String) throws {
        #expect(try PythonLiteral.ansibleValue(of: Substring(text)) == .string(text))
    }

    @Test func twoHundredNestedBracketsAreStillALiteral() throws {
        let text = String(repeating: "[", count: 200) + String(repeating: "]", count: 200)
        #expect(try PythonLiteral.ansibleValue(of: Substring(text)).listValue?.count == 1)
    }

    @Test func integersBeyond64BitsBecomeFloats() throws {
        #expect(try PythonLiteral.ansibleValue(of: "99999999999999999999") == .double(1e20))
        #expect(try PythonLiteral.ansibleValue(of: "9223372036854775807") == .int(Int.max))
    }

    @Test func unhashableKeysFailAsInPython() throws {
        #expect(throws: PythonLiteral.UnhashableError.self) { try PythonLiteral.ansibleValue(of: "{[1]: 2}") }
        #expect(throws: PythonLiteral.UnhashableError.self) { try PythonLiteral.ansibleValue(of: "{[1], 2}") }
        // Not a literal as a whole: the text, no error (Python fails on the name before hashing).
        #expect(try PythonLiteral.ansibleValue(of: "{[1]: foo}") == "{[1]: foo}")
    }
}

@Suite struct ShellWordsTests {
    static let cases: [(String, [String])] = [
        ("h1 a=1 b=2", ["h1", "a=1", "b=2"]),
        ("h1 j='x y'", ["h1", "j=x y"]),
        ("h1 d=\"8080\"", ["h1", "d=8080"]),
        ("h1 p=\"'03#x'\"", ["h1", "p='03#x'"]),
        ("h1 v=#comment", ["h1", "v="]),
        ("h1 a#b", ["h1", "a"]),
        ("h1 e=\\#x", ["h1", "e=#x"]),
        ("h1 q='a \"b\" c'", ["h1", "q=a \"b\" c"]),
        ("h1 q=\"a \\\"b\\\" c\"", ["h1", "q=a \"b\" c"]),
        ("h1 bs='a\\b'", ["h1", "bs=a\\b"]),
        ("h1 bs=\"a\\b\"", ["h1", "bs=a\\b"]),
        ("h1 e=\"\"", ["h1", "e="]),
        ("''", [""]),
        ("  h1\t  x=1  ", ["h1", "x=1"]),
        ("# only a comment", []),
    ]

    @Test(arguments: cases)
    func splitsLikePythonShlex(_ line: String, _ words: [String]) throws {
        #expect(try ShellWords.split(Substring(line)) == words)
    }

    @Test func unbalancedQuotesAndTrailingBackslashAreErrors() {
        #expect(throws: ShellWords.SplitError.noClosingQuotation) { try ShellWords.split("h1 x='abc") }
        #expect(throws: ShellWords.SplitError.noEscapedCharacter) { try ShellWords.split("h1 x=\\") }
    }
}
