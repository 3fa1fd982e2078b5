import FWBase
import Testing

@Suite struct DisplayEscapingTests {
    /// Every character that can steer a terminal or fake a line, from each class the escaping covers.
    static let hostile: [(String, String)] = [
        ("\u{1B}[2J", "\\u{1B}[2J"), ("a\rb", "a\\rb"), ("a\nb", "a\\nb"), ("a\0b", "a\\0b"), ("\t", "\\t"),
        ("\u{7F}", "\\u{7F}"), ("\u{85}", "\\u{85}"), ("\u{9B}31m", "\\u{9B}31m"), ("x\u{202E}y", "x\\u{202E}y"),
        ("\u{2028}", "\\u{2028}"), ("\u{2029}", "\\u{2029}"), ("\u{200B}", "\\u{200B}"), ("\u{2066}", "\\u{2066}"),
        ("\u{FEFF}", "\\u{FEFF}"), ("\u{E000}", "\\u{E000}"),
    ]

    @Test(arguments: hostile)
    func escapesEveryTerminalControl(_ input: String, _ expected: String) {
        #expect(DisplayEscaping.escaped(input) == expected)
        #expect(!DisplayEscaping.escaped(input).unicodeScalars.contains { DisplayEscaping.isUnsafe($0) })
    }

    @Test func leavesPrintableTextAlone() {
        for text in ["web-01", "café", "日本", "a b", "path/to\\x", "100%"] {
            #expect(DisplayEscaping.escaped(text) == text)
        }
    }

    @Test func escapingIsIdempotent() {
        for (input, _) in Self.hostile {
            let once = DisplayEscaping.escaped(input)
            #expect(DisplayEscaping.escaped(once) == once)
        }
    }

    @Test func keepsLineFeedsOnlyWhenAsked() {
        #expect(DisplayEscaping.escapedKeepingLineFeeds("a\nb\u{1B}c\r") == "a\nb\\u{1B}c\\r")
    }

    @Test func quotesNamesThatAreNotPlain() {
        #expect(DisplayEscaping.quotedName("web") == "web")
        #expect(DisplayEscaping.quotedName("web\u{0}db") == "\"web\\0db\"")
        #expect(DisplayEscaping.quotedName("a\"b") == "\"a\\\"b\"")
        #expect(DisplayEscaping.quotedName("") == "\"\"")
    }
}
