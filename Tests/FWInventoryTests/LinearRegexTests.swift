import Foundation
import Testing
import TestSupport
@testable import FWInventory

/// `--limit ~REGEX` matches as Python's `re.match` does, in time linear in the name whatever the pattern.
@Suite struct LinearRegexTests {
    static let patterns = [
        "web", "web\\d+", "(web|db)[12]", "^a.c$", "a*", "(a|aa)*$", "(a|aa)*b", "[a-c]+x?", "[^0-9]+$", "a{2}", "a{2,}b",
        "a{,2}$", "a{1,3}?c", "(?:ab)+", "(?P<n>x|y)z", "\\w+-\\d{2}", "\\s", "\\S+\\.example", "a|b|", "x{", "x{a}",
        "[]a]+", "[a\\-z]+$", "\\.", "(a*)*$", "(a|b)*c", ".*\\Z", "\\Ad", "[\\d\\s]+", "é+", "(x+x+)+y",
    ]
    static let names: [String] = {
        var names = ["", "web", "web1", "web12", "db2", "abc", "ac", "a", "aa", "aaa", "aab", "aaab", "ab", "abab", "xz", "yz",
                     "node-07", "a b", "h1.example", ".", "d", "a\n", "x{", "x{a}", "]a", "-z", "éé", "xxxxy", "xxxx", "cab"]
        var random = SeededRandom(seed: 7)
        let alphabet = Array("abcxyz019-. é")
        for _ in 0..<150 {
            names.append(String((0..<Int(random.next() % 9)).map { _ in alphabet[Int(random.next() % UInt64(alphabet.count))] }))
        }
        return names
    }()

    @Test func matchesLikePythonsReMatch() throws {
        try Integration.require(.command("python3"))
        let script = """
            import json, re, sys
            data = json.load(sys.stdin)
            print(json.dumps([[bool(re.match(p, n)) for n in data["names"]] for p in data["patterns"]]))
            """
        let input = try JSONSerialization.data(withJSONObject: ["patterns": Self.patterns, "names": Self.names])
        let result = try runProcess("/usr/bin/env", ["python3", "-c", script], stdin: input)
        #expect(result.status == 0, "\(result.stderrText)")
        let expected = try #require(try JSONSerialization.jsonObject(with: result.stdout) as? [[Bool]])
        for (pattern, row) in zip(Self.patterns, expected) {
            let regex = try LinearRegex(pattern)
            for (name, match) in zip(Self.names, row) {
                #expect(regex.matchesPrefix(of: name) == match, "re.match(\(pattern.debugDescription), \(name.debugDescription))")
            }
        }
    }

    /// The pattern that ran for minutes with a backtracking engine: each name is one pass over the states.
    @Test func catastrophicPatternsAreLinear() throws {
        let name = String(repeating: "a", count: 5_000) + "!"
        for pattern in ["(a|aa)*$", "(a*)*$", "(x+x+)+y", "(a|a?)+$", "((a*)*b)*$"] {
            #expect(try LinearRegex(pattern).matchesPrefix(of: name) == false, "\(pattern)")
        }
    }

    @Test(arguments: ["(", "a)", "*a", "a**", "[a", "\\1", "(?=a)", "(?i)a", "a\\b", "[z-a]", "a{3,2}", "(a{1000}){1000}"])
    func unsupportedOrInvalidPatternsAreErrors(_ pattern: String) {
        #expect(throws: LinearRegex.SyntaxError.self) { try LinearRegex(pattern) }
    }
}
