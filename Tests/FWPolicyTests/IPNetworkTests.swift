import Testing
@testable import FWPolicy

@Suite struct IPNetworkTests {
    @Test(arguments: [
        ("203.0.113.5", "203.0.113.5", "203.0.113.5/32"),
        ("198.51.100.0/24", "198.51.100.0/24", "198.51.100.0/24"),
        ("0.0.0.0/0", "0.0.0.0/0", "0.0.0.0/0"),
        ("2001:db8::1", "2001:db8::1", "2001:db8::1/128"),
        ("2001:DB8:0:0:0:0:0:1", "2001:db8::1", "2001:db8::1/128"),
        ("2001:db8::/32", "2001:db8::/32", "2001:db8::/32"),
        ("::", "::", "::/128"),
        ("::/0", "::/0", "::/0"),
        ("::1", "::1", "::1/128"),
        ("1::", "1::", "1::/128"),
        ("2001:db8:0:1:0:0:0:1", "2001:db8:0:1::1", "2001:db8:0:1::1/128"),
        ("2001:0:0:1:0:0:0:1", "2001:0:0:1::1", "2001:0:0:1::1/128"),
        ("2001:db8:1:1:1:1:1:0", "2001:db8:1:1:1:1:1:0", "2001:db8:1:1:1:1:1:0/128"),
        ("::ffff:192.0.2.1", "::ffff:c000:201", "::ffff:c000:201/128"),
    ])
    func parsesAndPrintsCanonically(input: String, text: String, cidr: String) throws {
        let network = try IPNetwork(parsing: input)
        #expect(network.description == text)
        #expect(network.cidrText == cidr)
        #expect(try IPNetwork(parsing: network.description) == network, "round trip")
    }

    @Test(arguments: [
        "", "1.2.3", "1.2.3.4.5", "256.1.1.1", "01.2.3.4", "1.2.3.4/33", "1.2.3.4/", "1.2.3.4/024",
        "1.2.3.4/2/3", "10.0.0.5/24", "a.b.c.d", "1.2.3.4 ", " 1.2.3.4", "1.2.3.4\n",
        "2001:db8::1::2", ":1", "1:", "1:2:3:4:5:6:7:8:9", "1:2:3:4:5:6:7", "2001:db8::g",
        "fe80::1%eth0", "2001:db8::1/129", "2001:db8::1/64", "12345::", "::ffff:1.2.3", "1.2.3.4:22",
        "2001:db8::1 -j ACCEPT",
    ])
    func rejectsMalformedInput(input: String) {
        #expect(throws: IPNetworkParseError.self) { try IPNetwork(parsing: input) }
    }

    @Test func hostBitsErrorSuggestsTheNetwork() {
        #expect {
            try IPNetwork(parsing: "10.0.0.5/24")
        } throws: { error in
            "\(error)".contains("the network is 10.0.0.0/24")
        }
    }
}
