import Testing

@testable import FWInventory

/// Host names as declared in inventories: ranges and ports, with Ansible's results as expected values.
@Suite struct HostDeclarationTests {
    func expand(_ pattern: String) throws -> ([String], Int?) {
        var budget = HostDeclaration.Budget(remaining: 100_000)
        let result = try HostDeclaration.expand(pattern, budget: &budget)
        return (result.names, result.port)
    }

    static let expansions: [(String, [String], Int?)] = [
        ("web1", ["web1"], nil),
        ("web1:2222", ["web1"], 2222),
        ("web[01:03]", ["web01", "web02", "web03"], nil),
        ("web[01:12:3].example.com", ["web01.example.com", "web04.example.com", "web07.example.com", "web10.example.com"], nil),
        ("db-[a:f:2]", ["db-a", "db-c", "db-e"], nil),
        ("lb-[A:C]", ["lb-A", "lb-B", "lb-C"], nil),
        ("r[:2]", ["r0", "r1", "r2"], nil),
        ("n[1:2]-[a:b]", ["n1-a", "n1-b", "n2-a", "n2-b"], nil),
        ("node[0:1]:2222", ["node0", "node1"], 2222),
        ("skip[5:1]", [], nil),
        ("rev[5:1:-1]", ["rev5", "rev4", "rev3"], nil),
        ("[2001:db8::2]:2222", ["2001:db8::2"], 2222),
        ("2001:db8::1", ["2001:db8::1"], nil),
        ("2001:db8::[a:c]", ["2001:db8::a", "2001:db8::b", "2001:db8::c"], nil),
        ("192.0.2.[1:2]:2200", ["192.0.2.1", "192.0.2.2"], 2200),
        ("fe80::1%eth0", ["fe80::1%eth0"], nil),
        ("host:0", ["host"], 0),
    ]

    @Test(arguments: expansions)
    func expandsLikeAnsible(_ pattern: String, _ names: [String], _ port: Int?) throws {
        let (gotNames, gotPort) = try expand(pattern)
        #expect(gotNames == names)
        #expect(gotPort == port)
    }

    static let badRanges = ["h[1:2:3:4]", "h[01:5]", "h[1:]", "h[a:B:0]", "h[x:y:z]", "h[1:5:0]", "[2001:db8::10]", "h[1:2", "a|b[1:2]"]

    @Test(arguments: badRanges)
    func badRangeIsAnError(_ pattern: String) {
        #expect(throws: HostDeclaration.RangeError.self) { try expand(pattern) }
    }

    @Test func rangesStopAtTheBudget() {
        var budget = HostDeclaration.Budget(remaining: 1000)
        #expect(throws: HostDeclaration.RangeError.self) { try HostDeclaration.expand("h[0:99999999999]", budget: &budget) }
        #expect(throws: HostDeclaration.RangeError.self) { try HostDeclaration.expand("h[0:9223372036854775807]", budget: &budget) }
    }

    static let addresses: [(String, Bool)] = [
        ("192.0.2.1", true), ("255.255.255.255", true), ("256.1.1.1", false), ("1.2.3", false),
        ("::", true), ("::1", true), ("2001:db8::", true), ("1:2:3:4:5:6:7:8", true), ("1:2:3:4:5:6:7::", false),
        ("1::2::3", false), ("::ffff:192.0.2.1", true), ("0:0:0:0:0:0:1.2.3.4", true), ("12345::1", false),
    ]

    @Test(arguments: addresses)
    func addressSyntax(_ text: String, _ valid: Bool) {
        let isAddress = HostDeclaration.isIPv4(Substring(text)) || HostDeclaration.isIPv6(Substring(text))
        #expect(isAddress == valid)
    }

    @Test func hostnameSyntax() {
        #expect(HostDeclaration.isHostname("web-1.example.com"))
        #expect(HostDeclaration.isHostname("web[01:10].example.com"))
        #expect(HostDeclaration.isHostname("h\u{e9}te"))
        #expect(!HostDeclaration.isHostname("web-"))
        #expect(!HostDeclaration.isHostname("-web"))
        #expect(!HostDeclaration.isHostname("a..b"))
        #expect(!HostDeclaration.isHostname("a/b"))
    }
}
