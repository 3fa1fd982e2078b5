import FWInventory
import Testing
@testable import FWPolicy

/// Bad and hostile policies: each is refused with a message naming where and what, never compiled.
@Suite struct PolicyErrorTests {
    func errors(firewall: String, hosts: String = "h1: {ansible_host: 192.0.2.1}") throws -> [PolicyError] {
        let inventory = try PolicyFixtures.inventory("""
            all:
              hosts:
                \(hosts)
              children:
                bastion:
                  hosts:
                    b1: {ansible_host: 192.0.2.9}
                empty: {}
              vars:
                firewall:
            \(firewall.split(separator: "\n").map { "      " + $0 }.joined(separator: "\n"))
            """)
        return PolicyFixtures.errors("h1", in: inventory)
    }

    func expectError(_ errors: [PolicyError], path: String, containing text: String,
                     sourceLocation: SourceLocation = #_sourceLocation) {
        #expect(errors.contains { $0.path == path && $0.message.contains(text) },
                "expected an error at \(path) containing \"\(text)\", got: \(errors.map(\.description))",
                sourceLocation: sourceLocation)
    }

    @Test func unknownKeysAreErrorsNotIgnored() throws {
        let found = try errors(firewall: "management: [bastion]\nalow: []")
        expectError(found, path: "firewall.alow", containing: "unknown key")
        #expect(found.first?.location?.file == "test.yml")
    }

    @Test func unknownReferencesAndEmptyGroups() throws {
        expectError(try errors(firewall: "management: [bastion]\nallow:\n  - {from: nosuchgroup, ports: [80]}"),
                    path: "firewall.allow[0].from[0]", containing: "not a group, a host")
        expectError(try errors(firewall: "management: [bastion]\nallow:\n  - {from: empty, ports: [80]}"),
                    path: "firewall.allow[0].from[0]", containing: "has no hosts")
    }

    @Test(arguments: [
        ("ports: [0]", "firewall.allow[0].ports[0]", "not a port"),
        ("ports: [65536]", "firewall.allow[0].ports[0]", "not a port"),
        ("ports: [\"90:80\"]", "firewall.allow[0].ports[0]", "not a port"),
        ("ports: [\"80-90\"]", "firewall.allow[0].ports[0]", "not a port"),
        ("ports: [\"80\\n-A INPUT -j ACCEPT\"]", "firewall.allow[0].ports[0]", "not a port"),
        ("ports: [80], proto: sctp", "firewall.allow[0].proto", "must be one of"),
        ("proto: icmp, ports: [80]", "firewall.allow[0].ports", "icmp has no ports"),
        ("ports: [80], interface: \"eth0 -j ACCEPT\"", "firewall.allow[0].interface", "not a network interface"),
        ("ports: [80], interface: averyveryverylongname", "firewall.allow[0].interface", "not a network interface"),
        ("ports: [80], comment: \"ok\\n-A INPUT -j ACCEPT\"", "firewall.allow[0].comment", "cannot appear in a rule file"),
        ("ports: [80], comment: 'say \"hi\"'", "firewall.allow[0].comment", "cannot appear in a rule file"),
        ("ports: [80], comment: \"a; drop\"", "firewall.allow[0].comment", "cannot appear in a rule file"),
    ])
    func malformedAllowEntries(entry: String, path: String, message: String) throws {
        let found = try errors(firewall: "management: [bastion]\nallow:\n  - {from: any, \(entry)}")
        expectError(found, path: path, containing: message)
    }

    @Test(arguments: [
        ("10.0.0.5/24", "host bits are set"),
        ("10.0.0.256", "malformed IPv4"),
        ("198.51.100.0/24 -j ACCEPT", "not a group"),
        ("2001:db8::1\n-A INPUT", "malformed IPv6"),
    ])
    func malformedSources(source: String, message: String) throws {
        let quoted = source.replacingOccurrences(of: "\n", with: "\\n")
        let found = try errors(firewall: "management: [bastion]\nallow:\n  - {from: \"\(quoted)\", ports: [80]}")
        expectError(found, path: "firewall.allow[0].from[0]", containing: message)
    }

    @Test func dnsNamesNeedResolve() throws {
        let found = try errors(firewall: "management: [bastion]", hosts: "h1: {ansible_host: h1.example.com}")
        #expect(found.contains { $0.path == "ansible_host" && $0.message.contains("DNS name") && ($0.hint ?? "").contains("--resolve") })
    }

    @Test func resolveLooksNamesUpWithTheSystemResolver() throws {
        // localhost comes from /etc/hosts: no network traffic.
        let inventory = try PolicyFixtures.inventory("""
            all:
              hosts:
                h1: {ansible_host: localhost}
              vars:
                firewall: {management: [127.0.0.1]}
            """)
        let book = AddressBook(inventory: inventory, resolution: .systemResolver)
        #expect(try book.addresses(ofHost: "h1").contains(try IPNetwork(parsing: "127.0.0.1")))
    }

    @Test func wrongTypesNameTheType() throws {
        expectError(try errors(firewall: "management: [bastion]\ntarget: 3"), path: "firewall.target", containing: "must be one of")
        expectError(try errors(firewall: "management: [bastion]\nallow: {from: any}"), path: "firewall.allow", containing: "must be a list")
        expectError(try errors(firewall: "management: bastion\nallow:\n  - {ports: [80]}"), path: "firewall.allow[0]", containing: "has no 'from'")
    }
}

@Suite struct LockoutTests {
    @Test func noManagementSourcesIsALockout() throws {
        let inventory = try PolicyFixtures.inventory("""
            all:
              hosts:
                h1: {ansible_host: 192.0.2.1}
              vars:
                firewall: {allow: [{from: any, ports: [80]}]}
            """)
        let errors = PolicyFixtures.errors("h1", in: inventory)
        #expect(errors.count == 1)
        #expect(errors.first?.kind == .lockout)
        #expect(errors.first?.message.contains("lock everyone out") == true)
    }

    @Test func managementOfTheOtherFamilyOnlyIsALockout() throws {
        let inventory = try PolicyFixtures.inventory("""
            all:
              hosts:
                h1: {ansible_host: 192.0.2.1}
              vars:
                firewall: {management: ["2001:db8::/32"]}
            """)
        let errors = PolicyFixtures.errors("h1", in: inventory)
        #expect(errors.first?.kind == .lockout)
        #expect(errors.first?.message.contains("IPv4") == true)
    }

    @Test func defaultAcceptCannotLockOut() throws {
        let inventory = try PolicyFixtures.inventory("""
            all:
              hosts:
                h1: {ansible_host: 192.0.2.1}
              vars:
                firewall: {default: accept}
            """)
        #expect(PolicyFixtures.errors("h1", in: inventory).isEmpty)
    }
}
