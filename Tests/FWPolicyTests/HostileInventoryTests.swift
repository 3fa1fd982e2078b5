import FWBase
import FWInventory
import Testing
@testable import FWPolicy

/// An attacker who controls some inventory values (a group name, a var) must not change another host's rules or
/// what the operator sees on the terminal.
@Suite struct HostileInventoryTests {
    /// A NUL inside a group name once made `from: [web, db]` resolve through the cache to the attacker's host.
    @Test(arguments: ["web\u{0}db", "web\u{1B}db", "we\u{202E}b", "web\u{2028}db", "web db", "web\u{7F}", "web\u{85}"])
    func groupNamesWithControlCharactersAreRefusedWithTheirLine(_ name: String) throws {
        let json = """
            {"all": {"children": {"web": {"hosts": {"w1": {"ansible_host": "192.0.2.1"}}},
             "\(name.unicodeScalars.map { $0.isASCII && $0.value >= 0x20 && $0 != "\\" ? String($0) : String(format: "\\u%04x", $0.value) }.joined())": {"hosts": {"evil": {"ansible_host": "198.51.100.66"}}}}}}
            """
        #expect(throws: InventoryError.self) { try Inventory.parse(yaml: json, file: "hostile.yml") }
        do {
            _ = try Inventory.parse(yaml: json, file: "hostile.yml")
        } catch let error as InventoryError {
            #expect(error.location?.file == "hostile.yml")
            #expect(error.location?.line == 2)
            #expect(!error.description.unicodeScalars.contains { DisplayEscaping.isUnsafe($0) && $0 != "\n" })
        }
    }

    @Test(arguments: ["h\u{0}1", "h\u{1B}[2J", "h\r1", "h\u{202E}1"])
    func hostNamesWithControlCharactersAreRefused(_ name: String) throws {
        let escaped = name.unicodeScalars.map { $0.value >= 0x20 && $0.value < 0x7F ? String($0) : String(format: "\\u%04x", $0.value) }.joined()
        #expect(throws: InventoryError.self) {
            try Inventory.parse(yaml: "{\"all\": {\"hosts\": {\"\(escaped)\": {}}}}", file: "hostile.yml")
        }
    }

    /// Hyphens and dots, which Ansible warns about but keeps, stay valid.
    @Test func commonGroupNamesStayValid() throws {
        let inventory = try Inventory.parse(yaml: "all:\n  children:\n    web-servers.eu:\n      hosts:\n        w-1.example: {}\n", file: "ok.yml")
        #expect(inventory.group(named: "web-servers.eu")?.hosts == ["w-1.example"])
    }

    /// The resolution cache must tell the lists apart by their entries, not by a string made of them.
    @Test func resolutionCacheKeysAreListsNotJoinedStrings() throws {
        let book = AddressBook(inventory: try PolicyFixtures.inventory(PolicyFixtures.fleet))
        var attacker = ResolvedSources()
        attacker.add([.v4(address: 0xC633_6442, prefix: 32)])
        book.storeResolution(["web\u{0}db"], attacker)
        #expect(book.cachedResolution(["web", "db"]) == nil)
        book.storeResolution(["web", "db"], ResolvedSources())
        #expect(book.cachedResolution(["web\u{0}db"])?.v4 == attacker.v4)
        #expect(book.cachedResolution(["web", "db"])?.v4 == [])
    }

    /// Two hosts whose source lists differ only in how entries split must each get their own sources.
    @Test func sourceListsThatJoinToTheSameTextResolveApart() throws {
        let inventory = try PolicyFixtures.inventory("""
            all:
              vars:
                firewall: {management: [192.0.2.10]}
              children:
                ab: {hosts: {x1: {ansible_host: 192.0.2.1}}}
                a: {hosts: {x2: {ansible_host: 192.0.2.2}}}
                b: {hosts: {x3: {ansible_host: 192.0.2.5}}}
                first: {hosts: {t1: {ansible_host: 192.0.2.21, firewall: {allow: [{from: [a, b], ports: [80]}]}}}}
            """)
        let book = AddressBook(inventory: inventory)
        let compiled = try PolicyCompiler().compile(host: "t1", addressBook: book)
        let sources = try #require(compiled?.rules.first { $0.kind == .allow }?.sources)
        #expect(sources == .networks([.v4(address: 0xC000_0202, prefix: 32), .v4(address: 0xC000_0205, prefix: 32)]))
    }

    static let hostileTexts = ["x\u{1B}[2K\rall hosts ok", "x\nall hosts ok", "x\u{202E}ko", "x\u{2028}y", "x\u{0}y", "x\u{9B}2J"]

    /// Every part of a policy error that can hold an input value is shown escaped, on one line.
    @Test(arguments: hostileTexts)
    func policyErrorsAreEscapedForDisplay(_ text: String) {
        let error = PolicyError(host: text, location: FileLocation(file: "inv\(text).yml", line: 3), path: "firewall.\(text)",
                                scope: "group '\(text)'", message: "'\(text)' is not a group", hint: "fix \(text)")
        for shown in [error.description, error.describe(hosts: [text, "h2"]), PolicyErrors([error]).description] {
            #expect(!shown.unicodeScalars.contains { DisplayEscaping.isUnsafe($0) }, "\(shown.debugDescription)")
        }
    }

    @Test(arguments: hostileTexts)
    func inventoryErrorsAreEscapedForDisplay(_ text: String) {
        let error = InventoryError("no host named '\(text)'", at: FileLocation(file: "f\(text)", line: 1), hint: "try \(text)")
        let lines = error.description.split(separator: "\n", omittingEmptySubsequences: false)
        #expect(lines.count == 2, "the message and the hint, each on its own line")
        #expect(!error.description.unicodeScalars.contains { DisplayEscaping.isUnsafe($0) && $0 != "\n" })
    }
}

extension ResolvedSources: Equatable {
    public static func == (lhs: ResolvedSources, rhs: ResolvedSources) -> Bool {
        lhs.any == rhs.any && lhs.v4 == rhs.v4 && lhs.v6 == rhs.v6
    }
}
