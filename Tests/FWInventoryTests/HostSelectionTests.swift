import Foundation
import Testing
import TestSupport

@testable import FWInventory

/// `--limit` patterns, with Ansible's semantics (checked against `ansible-inventory --list --limit`).
@Suite struct HostSelectionTests {
    let inventory: Inventory

    init() throws {
        inventory = try ini("""
            bastion1
            [web]
            web1
            web2
            web3
            [app]
            app1
            app2
            [db]
            db1
            db2 ansible_host=2001:db8::2
            [canary]
            web3
            app2
            [prod:children]
            web
            app
            db
            [monitoring]
            mon1
            """)
    }

    func select(_ pattern: String) throws -> [String] {
        try inventory.select(pattern).map(\.name)
    }

    static let patterns: [(String, [String])] = [
        ("all", ["bastion1", "web1", "web2", "web3", "app1", "app2", "db1", "db2", "mon1"]),
        ("*", ["bastion1", "web1", "web2", "web3", "app1", "app2", "db1", "db2", "mon1"]),
        ("web", ["web1", "web2", "web3"]),
        ("web1", ["web1"]),
        ("prod", ["web1", "web2", "web3", "app1", "app2", "db1", "db2"]),
        ("web:db", ["web1", "web2", "web3", "db1", "db2"]),
        ("db,web", ["web1", "web2", "web3", "db1", "db2"]),
        ("web, app1", ["web1", "web2", "web3", "app1"]),
        ("prod:&canary", ["web3", "app2"]),
        ("prod:!canary", ["web1", "web2", "app1", "db1", "db2"]),
        ("!canary:prod", ["web1", "web2", "app1", "db1", "db2"]),  // exclusions apply last, wherever they are
        ("!web", ["bastion1", "app1", "app2", "db1", "db2", "mon1"]),  // only modifiers: all, then them
        ("&canary", ["web3", "app2"]),
        ("web*", ["web1", "web2", "web3"]),
        ("*1", ["bastion1", "web1", "app1", "db1", "mon1"]),
        ("db?", ["db1", "db2"]),
        ("[wa]*1", ["web1", "app1"]),
        ("[!wa]*1", ["bastion1", "db1", "mon1"]),
        ("~(web|db)[12]", ["web1", "web2", "db1", "db2"]),
        ("~app", ["app1", "app2"]),
        ("web[0]", ["web1"]),
        ("web[-1]", ["web3"]),
        ("web[1:]", ["web2", "web3"]),
        ("prod[0:1]", ["web1", "web2"]),
        ("ungrouped", ["bastion1"]),
        ("web:&prod:!web2", ["web1", "web3"]),
    ]

    @Test(arguments: patterns)
    func patternSelects(_ pattern: String, _ expected: [String]) throws {
        #expect(try select(pattern) == expected)
    }

    @Test func resultsAreInInventoryOrderWhateverThePatternOrder() throws {
        #expect(try select("db2,web1,bastion1") == ["bastion1", "web1", "db2"])
    }

    @Test func aTermMatchingNothingIsAnError() throws {
        let error = try #require(throws: InventoryError.self) { try select("web,dbb") }
        #expect(error.message.contains("'dbb'"))
        #expect(error.hint == "did you mean 'db'?")
        // A typo in an exclusion would select more hosts than meant: also an error.
        #expect(throws: InventoryError.self) { try select("prod:!canry") }
        #expect(throws: InventoryError.self) { try select("nothing*") }
    }

    @Test func anEmptySelectionIsAnError() throws {
        let error = try #require(throws: InventoryError.self) { try select("web:&db") }
        #expect(error.message.contains("no hosts matched"))
        #expect(throws: InventoryError.self) { try select("web[7]") }
        #expect(throws: InventoryError.self) { try select("~web(") }
    }

    @Test func limitFilesAddTerms() throws {
        let folder = try TemporaryFolder("fwctl-inv-limit", files: ["retry": "web1\ndb2\n\n"])
        defer { folder.remove() }
        #expect(try select("@\(folder.path("retry"))") == ["web1", "db2"])
        #expect(try select("@\(folder.path("retry")),app1") == ["web1", "app1", "db2"])
        #expect(throws: InventoryError.self) { try select("@\(folder.path("missing"))") }
    }

    @Test func patternSplitting() {
        #expect(Inventory.splitPattern("a:b:&c:!d") == ["a", "b", "&c", "!d"])
        #expect(Inventory.splitPattern("2001:db8::1") == ["2001:db8::1"])
        #expect(Inventory.splitPattern("web[1:3]:db") == ["web[1:3]", "db"])
        #expect(Inventory.splitPattern(" a , b ,") == ["a", "b"])
        #expect(Inventory.splitPattern("host:22") == ["host:22"])
    }

    @Test func ipv6HostNamesSelectThemselves() throws {
        let v6 = try ini("[v6]\n2001:db8::1\n2001:db8::2\n")
        #expect(try v6.select("2001:db8::1").map(\.name) == ["2001:db8::1"])
        #expect(try v6.select("2001:db8::1,2001:db8::2").count == 2)
    }

    @Test func globsMatchLikeFnmatch() {
        func glob(_ p: String, _ s: String) -> Bool { NameMatcher.glob(Array(p.unicodeScalars), Array(s.unicodeScalars)) }
        #expect(glob("a*b", "axxb"))
        #expect(glob("*", ""))
        #expect(!glob("a?", "a"))
        #expect(glob("[]]x", "]x"))
        #expect(glob("[a-c]1", "b1"))
        #expect(!glob("[!a-c]1", "b1"))
        #expect(glob("a[b", "a[b"))  // an unclosed [ is literal
        #expect(!glob("Web*", "web1"))  // case-sensitive
    }
}
