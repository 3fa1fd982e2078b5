import Foundation
import FWTemplate
import Testing

@testable import FWInventory

/// JSON exactly as Python's `json.dumps(sort_keys=True, indent=4)` writes it (ansible-inventory's output).
@Suite struct JSONOutputTests {
    static let floats: [(Double, String)] = [
        (1000.0, "1000.0"), (1.5, "1.5"), (0.1, "0.1"), (1e16, "1e+16"), (1234567890123456.0, "1234567890123456.0"),
        (0.0001, "0.0001"), (0.00001, "1e-05"), (1.5e-7, "1.5e-07"), (-0.0, "-0.0"), (.leastNonzeroMagnitude, "5e-324"),
        (1.7976931348623157e308, "1.7976931348623157e+308"), (123456789012345678.0, "1.2345678901234568e+17"),
        (.infinity, "Infinity"), (-.infinity, "-Infinity"), (.nan, "NaN"), (100.0, "100.0"), (2.5e-4, "0.00025"),
    ]

    @Test(arguments: floats)
    func floatsAreWrittenAsPythonWritesThem(_ value: Double, _ text: String) {
        #expect(PythonNumberFormat.json(value) == text)
    }

    @Test func complexNumbersAsPythonStrings() {
        #expect(PythonNumberFormat.complexRepr(real: 0, imag: 1) == "1j")
        #expect(PythonNumberFormat.complexRepr(real: -0.0, imag: -1) == "(-0-1j)")
        #expect(PythonNumberFormat.complexRepr(real: 1, imag: 2.5) == "(1+2.5j)")
    }

    @Test func indentedOutputSortsKeysByCodePointAndEscapesOnlyWhatJSONNeeds() {
        let value: InventoryValue = ["b": [1, "x"], "B": [:], "_a": [], "é": "\"\\\n\u{1}é☺"]
        #expect(value.jsonText() == """
            {
                "B": {},
                "_a": [],
                "b": [
                    1,
                    "x"
                ],
                "\u{e9}": "\\"\\\\\\n\\u0001\u{e9}\u{263a}"
            }
            """)
        #expect(value.description == #"{"B": {}, "_a": [], "b": [1, "x"], "é": "\"\\\n\u0001é☺"}"#)
    }

    /// A value that could act on a terminal (bidi override, C1 CSI, DEL, a line separator, a tag character) is
    /// written as \u escapes: the same JSON value, readable back unchanged, with nothing raw on the screen.
    @Test func charactersThatActOnATerminalAreWrittenEscaped() throws {
        let text = "a\u{202E}b\u{9B}2Jc\u{7F}d\u{2028}e\u{E0041}fé☺"
        let written = InventoryValue.string(text).jsonText(style: .compact)
        #expect(written == #""a\u202eb\u009b2Jc\u007fd\u2028e\udb40\udc41fé☺""#, "\(written)")
        let back = try JSONSerialization.jsonObject(with: Data(written.utf8), options: [.fragmentsAllowed]) as? String
        #expect(back == text)
        #expect(InventoryValue.string("\"\u{202E}\\\n").jsonText(style: .compact) == #""\"\u202e\\\n""#)
    }

    @Test func listShowsGroupsHostvarsAndEmptyGroupsAsAnsibleDoes() throws {
        let inventory = try ini("""
            u1
            [web]
            w1 a=1
            w2
            [empty]
            [prod:children]
            web
            """)
        #expect(inventory.listJSON() == """
            {
                "_meta": {
                    "hostvars": {
                        "w1": {
                            "a": 1
                        }
                    },
                    "profile": "inventory_legacy"
                },
                "all": {
                    "children": [
                        "ungrouped",
                        "empty",
                        "prod"
                    ]
                },
                "prod": {
                    "children": [
                        "web"
                    ]
                },
                "ungrouped": {
                    "hosts": [
                        "u1"
                    ]
                },
                "web": {
                    "hosts": [
                        "w1",
                        "w2"
                    ]
                }
            }

            """)
        let limited = inventory.listJSON(hosts: try inventory.select("w2"))
        #expect(!limited.contains("\"w1\""))
        #expect(!limited.contains("\"ungrouped\": {"))
        #expect(limited.contains("\"hostvars\": {}"))
    }

    @Test func graphAndHost() throws {
        let inventory = try ini("u1\n[web]\nw1 a=1\n[prod:children]\nweb\n[prod:vars]\nb=[1]\n")
        #expect(try inventory.graph() == """
            @all:
              |--@ungrouped:
              |  |--u1
              |--@prod:
              |  |--@web:
              |  |  |--w1

            """)
        #expect(try inventory.graph(from: "prod") == "@prod:\n  |--@web:\n  |  |--w1\n")
        #expect(try inventory.hostJSON("w1") == "{\n    \"a\": 1,\n    \"b\": [\n        1\n    ]\n}\n")
        #expect(try inventory.hostJSON("u1") == "{}\n")
        #expect(throws: InventoryError.self) { try inventory.graph(from: "nosuch") }
    }
}

@Suite struct JSONReaderTests {
    @Test func readsPythonJSON() throws {
        let doc = try JSONReader.parse(Array(#"{"a": 1, "b": 1.0, "c": 1e3, "d": [true, null], "e": "\u00e9\ud83d\ude00", "f": NaN, "a": 2, "u": {"__ansible_unsafe": "x"}}"#.utf8))
        #expect(doc.value["a"] == 2)
        #expect(doc.value["b"] == 1.0)
        #expect(doc.value["c"] == 1000.0)
        #expect(doc.value["d"] == [true, nil])
        #expect(doc.value["e"] == "é😀")
        #expect(doc.value["f"]?.doubleValue?.isNaN == true)
        #expect(doc.value["u"] == .unsafe("x"), "kept as unsafe, a string to every reader")
        #expect(doc.keyOrder == ["a", "b", "c", "d", "e", "f", "u"])
    }

    @Test func topLevelKeysKeepTheirLinesAndNestedKeysDoNot() throws {
        let doc = try JSONReader.parse(Array("{\n\"a\": {\"n\": 1},\n\"b\": [{\"m\": 2}],\n\"a\": 3\n}".utf8))
        #expect(doc.keyLines == ["a": 4, "b": 3])  // the last of duplicate keys counts
        #expect(doc.keyOrder == ["a", "b"])
    }

    @Test func rejectsInvalidJSONWithAPosition() throws {
        let failure = try #require(throws: JSONReader.Failure.self) { try JSONReader.parse(Array("{\n  \"a\": [1,\n}".utf8)) }
        #expect(failure.line == 3)
        #expect(throws: JSONReader.Failure.self) { try JSONReader.parse(Array("{} x".utf8)) }
        #expect(throws: JSONReader.Failure.self) { try JSONReader.parse(Array("\"a\u{1}\"".utf8)) }
        let deep = String(repeating: "[", count: 600) + String(repeating: "]", count: 600)
        #expect(throws: JSONReader.Failure.self) { try JSONReader.parse(Array(deep.utf8)) }
        #expect(throws: JSONReader.Failure.self) { try JSONReader.parseTemplateValue(Array(deep.utf8)) }
    }

    /// Strings whose end, escape or control character falls at every offset of the eight-byte scan.
    @Test func stringsEndAndEscapeAtEveryOffsetOfTheWordScan() throws {
        for length in 0...20 {
            let plain = String(repeating: "a", count: length)
            #expect(try JSONReader.parse(Array("\"\(plain)\"".utf8)).value == .string(plain), "length \(length)")
            #expect(try JSONReader.parse(Array("\"\(plain)\\n\(plain)\"".utf8)).value == .string(plain + "\n" + plain))
            #expect(try JSONReader.parse(Array("\"\(plain)é\(plain)\"".utf8)).value == .string(plain + "é" + plain))
            let failure = #expect(throws: JSONReader.Failure.self) { try JSONReader.parse(Array("\"\(plain)\u{1}\(plain)\"".utf8)) }
            #expect(failure?.message == "control character in a string", "length \(length)")
            #expect(throws: JSONReader.Failure.self) { try JSONReader.parse(Array("\"\(plain)".utf8)) }
        }
    }

    /// Invalid UTF-8 inside a string is an error, as it is for Python reading the file as Ansible does; valid
    /// multi-byte text in any position of the word scan is kept.
    @Test func invalidUTF8InAStringIsRefused() throws {
        let invalid: [[UInt8]] = [[0xFF], [0x61, 0x62, 0xC3], [0xC0, 0xAF], [0xED, 0xA0, 0x80], Array("abcdefghij".utf8) + [0x80],
                                  Array("\\n".utf8) + [0xFE]]
        for body in invalid {
            let text = [UInt8(ascii: "\"")] + body + [UInt8(ascii: "\"")]
            let failure = #expect(throws: JSONReader.Failure.self) { try JSONReader.parse(text) }
            #expect(failure?.message == "invalid UTF-8 in a string", "\(body)")
            #expect(throws: JSONReader.Failure.self) { try JSONReader.parseTemplateValue(text) }
        }
        for offset in 0..<12 {
            let plain = String(repeating: "a", count: offset)
            #expect(try JSONReader.parse(Array("\"\(plain)😀é\(plain)\"".utf8)).value == .string(plain + "😀é" + plain))
        }
    }

    /// Numbers as Python reads them, through the digit fast path (up to 18 digits) and past it.
    @Test func integersOfEveryLengthAndTheirEdges() throws {
        let cases: [(String, InventoryValue)] = [
            ("0", .int(0)), ("-0", .int(0)), ("7", .int(7)), ("-42", .int(-42)),
            ("999999999999999999", .int(999_999_999_999_999_999)), ("-999999999999999999", .int(-999_999_999_999_999_999)),
            ("9223372036854775807", .int(Int.max)), ("-9223372036854775808", .int(Int.min)),
            ("9223372036854775808", .double(9_223_372_036_854_775_808)),  // beyond 64 bits: Python's int, here a float
            ("1.5", .double(1.5)), ("-2e3", .double(-2000)), ("10E-1", .double(1)),
        ]
        for (text, expected) in cases {
            #expect(try JSONReader.parse(Array(text.utf8)).value == expected, "\(text)")
        }
        #expect(throws: JSONReader.Failure.self) { try JSONReader.parse(Array("01".utf8)) }
        #expect(throws: JSONReader.Failure.self) { try JSONReader.parse(Array("-".utf8)) }
    }

    /// Template data read straight from JSON is exactly the inventory value converted: the same typing rules,
    /// one reader.
    @Test func templateDataStraightFromJSONEqualsTheConvertedInventoryValue() throws {
        let documents = [
            #"{"a": 1, "b": [1.5, -0, 12345678901234567890, true, null, "x"], "c": {"d": {"e": "é\n"}}}"#,
            #"{"u": {"__ansible_unsafe": "secret"}, "w": {"__ansible_unsafe": 3}, "v": {"__ansible_unsafe": "a", "k": 1}}"#,
            #"{"dup": 1, "dup": {"__ansible_unsafe": "x", "__ansible_unsafe": "y"}, "dup2": {"__ansible_unsafe": "x", "__ansible_unsafe": 2}}"#,
            #"[Infinity, -Infinity, {}, [], ""]"#,
            "\"just a string\"",
        ]
        for text in documents {
            let bytes = Array(text.utf8)
            let direct = try JSONReader.parseTemplateValue(bytes)
            let converted = TemplateValue(try JSONReader.parse(bytes).value)
            #expect(direct == converted, "\(text)")
        }
        guard case .list(let nan) = try JSONReader.parseTemplateValue(Array("[NaN]".utf8)), case .double(let value) = nan.first
        else { Issue.record("NaN is not a float"); return }
        #expect(value.isNaN)
        let unsafe = try JSONReader.parseTemplateValue(Array(documents[1].utf8))
        #expect(unsafe["u"] == "secret")
        #expect(unsafe["w"]?["__ansible_unsafe"] == 3, "not a string: an object like any other")
        #expect(unsafe["v"]?["k"] == 1)
        let duplicates = try JSONReader.parseTemplateValue(Array(documents[2].utf8))
        #expect(duplicates["dup"] == "y")
        #expect(duplicates["dup2"]?["__ansible_unsafe"] == 2)
    }
}
