import FWBase
import Testing

@testable import FWInventory

/// YAML inventories and vars files: PyYAML's YAML 1.1 typing (as Ansible reads them) and the inventory shape.
@Suite struct YAMLTests {
    func value(_ yaml: String) throws -> InventoryValue {
        try YAMLReader.parse("v: \(yaml)\n").value["v"] ?? .string("<missing>")
    }

    static let scalars: [(String, InventoryValue)] = [
        ("yes", true), ("On", true), ("FALSE", false), ("y", "y"), ("~", nil), ("null", nil), ("", nil),
        ("0644", 420), ("0o17", "0o17"), ("0x1F", 31), ("0b101", 5), ("+12", 12), ("1_000", 1000), ("1:30", 90),
        ("190:20:30.15", 685230.15), ("1e3", "1e3"), ("1.0e+3", 1000.0), ("1.e+3", 1000.0), ("-.5", "-.5"),
        (".5", 0.5), (".inf", .double(.infinity)), ("-.inf", .double(-.infinity)), ("08", "08"),
        ("2001-12-14", "2001-12-14"), ("2001-1-2", "2001-1-2"), ("2001-12-14 21:59:43.10 -5", "2001-12-14T21:59:43.100000-05:00"),
        ("2001-12-14t21:59:43Z", "2001-12-14T21:59:43+00:00"), ("\"yes\"", "yes"), ("'0644'", "0644"),
        ("!!str 5", "5"), ("!!int \"12\"", 12), ("!!float 5", 5.0), ("!unsafe \"{{ x }}\"", .unsafe("{{ x }}")),
        ("!!binary aGVsbG8=", "hello"), ("[a, 1, {b: no}]", ["a", 1, ["b": false]]),
    ]

    @Test(arguments: scalars)
    func scalarsAreTypedLikePyYAML(_ yaml: String, _ expected: InventoryValue) throws {
        #expect(try value(yaml) == expected)
    }

    @Test func nanIsAFloat() throws {
        #expect(try value(".NaN").doubleValue?.isNaN == true)
    }

    @Test func invalidValuesAreErrorsWithLines() {
        for bad in ["2001-13-01", "0b_", "=", "!foo 5"] {
            #expect(throws: YAMLReader.Failure.self, "\(bad)") { try value(bad) }
        }
    }

    @Test func mergeKeysAndKeyTyping() throws {
        let doc = try YAMLReader.parse("""
            base: &base {a: 1, b: 2}
            other: &other {b: 20, c: 30}
            one: {<<: *base, b: 3}
            list: {<<: [*base, *other]}
            keys: {1: a, yes: b, ~: c, 1.5: d}
            """).value
        #expect(doc["one"] == ["a": 1, "b": 3])
        #expect(doc["list"] == ["a": 1, "b": 2, "c": 30])  // the first mapping in the list wins
        #expect(doc["keys"] == ["1": "b", "null": "c", "1.5": "d"])  // 1 and true are one Python key
    }

    @Test func topLevelKeyLinesAreKept() throws {
        let doc = try YAMLReader.parse("# header\na: 1\n\nfirewall:\n  target: ufw\n")
        #expect(doc.keyLines == ["a": 2, "firewall": 4])
    }

    @Test func duplicateKeysAreRefused() throws {
        let failure = try #require(throws: YAMLReader.Failure.self) { try YAMLReader.parse("a: 1\nb: 2\na: 3\n") }
        #expect(failure.message.contains("duplicate key 'a'"))
    }

    @Test func aliasBombsAndDeepNestingFailCleanly() throws {
        var bomb = "a: &a [x, x, x, x, x, x, x, x, x, x]\n"
        for (n, name) in "bcdefghij".enumerated() {
            let previous = n == 0 ? "a" : String(Array("bcdefghij")[n - 1])
            bomb += "\(name): &\(name) [" + Array(repeating: "*\(previous)", count: 10).joined(separator: ", ") + "]\n"
        }
        #expect(throws: YAMLReader.Failure.self) { try YAMLReader.parse(bomb) }
        let deep = String(repeating: "[", count: 5000) + String(repeating: "]", count: 5000)
        // Yams recurses per level: parse on a large stack, as Inventory.load does.
        #expect(throws: YAMLReader.Failure.self) { try WorkerThread.run(stackSize: WorkerThread.deepRecursionStackSize) { try YAMLReader.parse(deep).value } }
    }

    @Test func yamlInventoryShape() throws {
        let inventory = try Inventory.parse(yaml: """
            all:
              vars: {ansible_user: ops}
              hosts:
                lonely:
              children:
                edge:
                  hosts:
                    edge1: {ansible_host: 203.0.113.11}
                    "edge2:2222":
                    e[3:4]:
                  vars: {public: true}
                core:
                  children:
                    routers:
                      hosts:
                        rtr[1:2]:
                    edge:
                web:
                  hosts: w1
            """)
        #expect(inventory.hostNames == ["lonely", "edge1", "edge2", "e3", "e4", "rtr1", "rtr2", "w1"])
        #expect(inventory.group(named: "ungrouped")?.hosts == ["lonely"])
        #expect(inventory.group(named: "edge")?.parents == ["all", "core"])
        #expect(inventory.group(named: "edge")?.depth == 2)
        #expect(inventory.merged("edge2") == ["ansible_user": "ops", "ansible_port": 2222, "public": true])
        #expect(inventory.merged("edge1")["ansible_host"] == "203.0.113.11")
    }

    @Test func yamlInventoryErrors() throws {
        func failure(_ yaml: String) -> InventoryError? {
            do {
                _ = try Inventory.parse(yaml: yaml, file: "inv.yml")
                Issue.record("expected an error for \(yaml)")
                return nil
            } catch {
                return error as? InventoryError
            }
        }
        #expect(failure("all:\n  hosts: [a, b]\n")?.message.contains("must be a mapping") == true)
        #expect(failure("plugin: aws_ec2\nregions: [x]\n")?.hint?.contains("ansible-inventory") == true)
        #expect(failure("all:\n  hosts:\n    123:\n")?.message.contains("must be a string") == true)
        #expect(failure("all:\n  hosts:\n    h1: 5\n")?.message.contains("must be a mapping") == true)
        #expect(failure("a:\n  children:\n    b:\n      children:\n        a:\n")?.message.contains("cycle") == true)
        let syntax = try #require(failure("all:\n  hosts:\n    a: [1\n"))
        #expect(syntax.location?.line == 4)
        #expect(syntax.file == "inv.yml")
    }
}

/// A child entry that is not a group definition (`web: []`) keeps its link, as in Ansible: the hosts of the group
/// still inherit the parent's vars (checked by hand against ansible-inventory 2.19).
@Suite struct YAMLChildReferenceTests {
    @Test(arguments: ["[]", "''", "abc", "1"]) func aSkippedChildDefinitionStillLinksAKnownGroup(_ value: String) throws {
        let inventory = try Inventory.parse(yaml: """
            web: {hosts: {w1: }}
            prod:
              vars: {p: 1}
              children:
                web: \(value)
            """, file: "inv.yml")
        #expect(inventory.group(named: "web")?.parents == ["prod"])
        #expect(inventory.merged("w1")["p"] == 1)
        #expect(!inventory.warnings.isEmpty, "the skipped definition is still said")
    }

    @Test func aSkippedChildDefinitionOfAnUnknownGroupIsAnError() throws {
        #expect(throws: InventoryError.self) {
            try Inventory.parse(yaml: "prod:\n  children:\n    web: []\nweb: {hosts: {w1: }}\n", file: "inv.yml")
        }
    }
}
