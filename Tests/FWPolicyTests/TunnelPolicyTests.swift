import FWInventory
import Testing
@testable import FWPolicy

/// The `tunnels` list: validated like the firewall policy (every problem at once, each with file:line), resolved
/// with the same source code as firewall rules, and carried into home's firewall (client port open to the
/// allowlist only, control port to the work hosts only); `check` refuses a home rule that opens a tunnel port
/// wider and warns about a work host's inbound rule for the tunnel.
@Suite struct TunnelPolicyTests {
    /// A fleet with a home outside (gw1), two work hosts behind (office1, office2), admins and an outsider.
    static func inventory(tunnels: String, homeAllow: String = "[]", workAllow: String = "[]", homeDefault: String = "drop") throws -> Inventory {
        try PolicyFixtures.inventory("""
            all:
              vars:
                firewall:
                  target: iptables
                  management: [admins]
                tunnels:
            \(tunnels.split(separator: "\n").map { "      " + $0 }.joined(separator: "\n"))
              children:
                admins:
                  hosts:
                    admin1: {ansible_host: 192.0.2.5}
                    admin2: {ansible_host: 192.0.2.6, fw_addresses: ["2001:db8::6"]}
                outside:
                  hosts:
                    gw1: {ansible_host: 198.51.100.1, firewall: {default: \(homeDefault), allow: \(homeAllow)}}
                    gw2: {ansible_host: 198.51.100.2}
                    stranger: {ansible_host: 198.51.100.99}
                office:
                  hosts:
                    office1: {ansible_host: 10.1.0.1, firewall: {allow: \(workAllow)}}
                    office2: {ansible_host: 10.1.0.2}
                empty: {}
            """)
    }

    static let good = """
        - name: office-ssh
          home: gw1
          work: [office1, office2]
          service: 127.0.0.1:22
          client_port: 9001
          control_port: 9000
          allow: [admins, 203.0.113.0/24]
        """

    func catalog(_ inventory: Inventory) -> TunnelCatalog { AddressBook(inventory: inventory).tunnelCatalog }

    @Test func aGoodTunnelResolvesItsAllowlistAndWorkAddresses() throws {
        let catalog = catalog(try Self.inventory(tunnels: Self.good))
        #expect(catalog.errors.isEmpty, "\(catalog.errors)")
        let tunnel = try #require(catalog.tunnels.first)
        #expect(tunnel.name == "office-ssh" && tunnel.home == "gw1" && tunnel.work == ["office1", "office2"])
        #expect(tunnel.allowlist.map(\.description) == ["192.0.2.5", "192.0.2.6", "203.0.113.0/24", "2001:db8::6"])
        #expect(tunnel.workAddresses.map(\.description) == ["10.1.0.1", "10.1.0.2"])
        #expect(tunnel.tls && !tunnel.proxyProtocol && tunnel.clientPort == 9001 && tunnel.controlPort == 9000)
        #expect(tunnel.homeAddress.addressText == "198.51.100.1")
        #expect(tunnel.origin.location?.file == "test.yml" && tunnel.origin.location?.line != nil)
    }

    @Test func everyProblemAtOnceWithFileAndLine() throws {
        let catalog = catalog(try Self.inventory(tunnels: """
            - name: one
              home: nosuchhost
              work: [office1, nobody]
              service: 127.0.0.1:22
              client_port: 9001
              control_port: 9000
              allow: [admins, nosuchgroup]
            - name: two
              home: gw1
              work: gw1
              service: "127.0.0.1:22\\nx"
              client_port: 70000
              control_port: 9000
              allow: []
            - name: three
              home: gw1
              work: [office1]
              service: 127.0.0.1:22
              client_port: 9101
              control_port: 9100
              allow: [empty]
              colour: blue
            - {name: "bad name", home: outside, work: [office2], service: "x:1", client_port: 1, control_port: 2, allow: [admins], tls: maybe}
            """))
        let found = catalog.errors
        func expect(_ path: String, _ text: String, sourceLocation: SourceLocation = #_sourceLocation) {
            #expect(found.contains { $0.path == path && $0.message.contains(text) },
                    "expected \(path): \(text) in\n\(found.map(\.description).joined(separator: "\n"))", sourceLocation: sourceLocation)
        }
        expect("tunnels[0].home", "not a host in the inventory")
        expect("tunnels[0].work[1]", "not a host in the inventory")
        expect("tunnels[0].allow[1]", "not a group, a host")
        expect("tunnels[1].work", "is the tunnel's home")
        expect("tunnels[1].service", "not a service address")
        expect("tunnels[1].client_port", "not a TCP port")
        expect("tunnels[1].allow", "is empty")
        expect("tunnels[2].allow[0]", "has no hosts")
        expect("tunnels[2].colour", "unknown key")
        expect("tunnels[3].name", "not a tunnel name")
        expect("tunnels[3].home", "is a group")
        expect("tunnels[3].tls", "true or false")
        #expect(catalog.tunnels.isEmpty)
        #expect(found.allSatisfy { $0.location?.file == "test.yml" && $0.location?.line != nil && $0.scope == "group 'all'" })
    }

    @Test func portsOfOneHomeAreNotSharedButOtherHomesMayReuseThem() throws {
        let catalog = catalog(try Self.inventory(tunnels: Self.good + """

            - {name: again, home: gw1, work: [office2], service: "127.0.0.1:80", client_port: 9000, control_port: 9002, allow: [admins]}
            - {name: elsewhere, home: gw2, work: [office2], service: "127.0.0.1:80", client_port: 9001, control_port: 9000, allow: [admins]}
            - {name: office-ssh, home: gw2, work: [office1], service: "127.0.0.1:80", client_port: 9501, control_port: 9500, allow: [admins]}
            - {name: sameports, home: gw2, work: [office1], service: "127.0.0.1:80", client_port: 9600, control_port: 9600, allow: [admins]}
            - {name: onssh, home: gw2, work: [office1], service: "127.0.0.1:80", client_port: 22, control_port: 9700, allow: [admins]}
            """))
        let found = catalog.errors
        #expect(found.contains { $0.path == "tunnels[1].client_port" && $0.message.contains("already used by tunnel 'office-ssh'") }, "\(found)")
        #expect(found.contains { $0.path == "tunnels[3].name" && $0.message.contains("names another tunnel") }, "\(found)")
        #expect(found.contains { $0.path == "tunnels[4].control_port" && $0.message.contains("client port too") }, "\(found)")
        #expect(found.contains { $0.path == "tunnels[5].client_port" && $0.message.contains("SSH port") }, "\(found)")
        #expect(catalog.tunnels.map(\.name) == ["office-ssh", "elsewhere"], "\(found)")
    }

    @Test func listsAccumulateOverScopesOnce() throws {
        let inventory = try PolicyFixtures.inventory("""
            all:
              vars:
                tunnels: [{name: a, home: gw1, work: office1, service: "127.0.0.1:22", client_port: 9001, control_port: 9000, allow: [admin1]}]
              children:
                admins: {hosts: {admin1: {ansible_host: 192.0.2.5}}}
                outside:
                  hosts: {gw1: {ansible_host: 198.51.100.1}}
                  vars:
                    tunnels: [{name: b, home: gw1, work: office2, service: "127.0.0.1:22", client_port: 9011, control_port: 9010, allow: [admin1]}]
                office:
                  hosts: {office1: {ansible_host: 10.1.0.1}, office2: {ansible_host: 10.1.0.2}}
            """)
        let catalog = AddressBook(inventory: inventory).tunnelCatalog
        #expect(catalog.errors.isEmpty, "\(catalog.errors)")
        #expect(catalog.tunnels.map(\.name).sorted() == ["a", "b"])
    }

    /// A tunnel opens ports on its home, so it counts only in the home's vars: one in the vars of a work host (or
    /// of any host or group the home is not in) is refused where it stands, and the home's rules do not change.
    @Test(arguments: ["office", "host"]) func aTunnelOutsideItsHomesVarsIsRefused(_ holder: String) throws {
        let entry = "tunnels: [{name: b, home: gw1, work: office1, service: \"127.0.0.1:22\", client_port: 6000, control_port: 6001, allow: [any]}]"
        let inventory = try PolicyFixtures.inventory("""
            all:
              vars:
                firewall: {target: iptables, management: [192.0.2.5]}
              children:
                outside: {hosts: {gw1: {ansible_host: 198.51.100.1}}}
                office:
                  hosts: {office1: {ansible_host: 10.1.0.1\(holder == "host" ? ", " + entry : "")}}
                  \(holder == "office" ? "vars: {" + entry + "}" : "")
            """)
        let catalog = AddressBook(inventory: inventory).tunnelCatalog
        #expect(catalog.tunnels.isEmpty)
        #expect(catalog.errors.contains { $0.path == "tunnels[0].home" && $0.message.contains("not vars of its home 'gw1'") }, "\(catalog.errors)")
        let gw1 = try #require(try PolicyFixtures.compile("gw1", in: inventory))
        #expect(!gw1.admits(source: try IPNetwork(parsing: "203.0.113.9"), protocol: .tcp, port: 6000, interface: "eth0"))
        let office = PolicyFixtures.errors("office1", in: inventory)
        #expect(office.contains { $0.message.contains("not vars of its home") }, "the host whose vars hold it reports it: \(office)")
    }

    @Test func homeFirewallOpensTheClientPortToTheAllowlistOnly() throws {
        let inventory = try Self.inventory(tunnels: Self.good)
        let firewall = try #require(try PolicyFixtures.compile("gw1", in: inventory))
        let client = firewall.rules.filter { $0.ports == [PortRange(low: 9001, high: 9001)!] }
        let control = firewall.rules.filter { $0.ports == [PortRange(low: 9000, high: 9000)!] }
        #expect(client.count == 2 && control.count == 1, "\(firewall.rules)")  // control: the work hosts are IPv4 only
        for (source, admitted) in [("192.0.2.5", true), ("192.0.2.6", true), ("203.0.113.77", true), ("198.51.100.99", false), ("10.1.0.1", false)] {
            let address = try IPNetwork(parsing: source)
            #expect(firewall.admits(source: address, protocol: .tcp, port: 9001, interface: "eth0") == admitted, "client port from \(source)")
        }
        #expect(firewall.admits(source: try IPNetwork(parsing: "2001:db8::6"), protocol: .tcp, port: 9001, interface: "eth0"))
        #expect(!firewall.admits(source: try IPNetwork(parsing: "2001:db8::7"), protocol: .tcp, port: 9001, interface: "eth0"))
        for (source, admitted) in [("10.1.0.1", true), ("10.1.0.2", true), ("192.0.2.5", false), ("10.1.0.3", false)] {
            #expect(firewall.admits(source: try IPNetwork(parsing: source), protocol: .tcp, port: 9000, interface: "eth0") == admitted, "control port from \(source)")
        }
        // A host that is no tunnel's home gets no tunnel rule.
        let other = try #require(try PolicyFixtures.compile("gw2", in: inventory))
        #expect(!other.admits(source: try IPNetwork(parsing: "192.0.2.5"), protocol: .tcp, port: 9001, interface: "eth0"))
    }

    @Test func aHomeRuleWiderThanTheAllowlistFailsNamingBoth() throws {
        let errors = PolicyFixtures.errors("gw1", in: try Self.inventory(
            tunnels: Self.good, homeAllow: "[{from: any, ports: [9001]}, {from: [admins], ports: [9000]}, {from: [admin1], ports: [9001]}]"))
        #expect(errors.count == 2, "\(errors.map(\.description))")
        let client = try #require(errors.first { $0.path == "firewall.allow[0]" })
        #expect(client.message.contains("client port 9001 of tunnel 'office-ssh' (test.yml:"), "\(client)")
        #expect(client.message.contains("any IPv4 address") && client.location?.file == "test.yml", "\(client)")
        let control = try #require(errors.first { $0.path == "firewall.allow[1]" })
        #expect(control.message.contains("control port 9000") && control.message.contains("192.0.2.5"), "\(control)")
        // A rule within the allowlist (admin1) agrees with it.
        #expect(!errors.contains { $0.path == "firewall.allow[2]" })
        // So does `check` as a whole: an all-ports rule from outside the allowlist is wider too; default accept is.
        let allPorts = PolicyFixtures.errors("gw1", in: try Self.inventory(tunnels: Self.good, homeAllow: "[{from: [stranger]}]"))
        #expect(allPorts.contains { $0.path == "firewall.allow[0]" && $0.message.contains("198.51.100.99") }, "\(allPorts)")
        let accept = PolicyFixtures.errors("gw1", in: try Self.inventory(tunnels: Self.good, homeDefault: "accept"))
        #expect(accept.contains { $0.path == "firewall.default" }, "\(accept)")
    }

    @Test func aWorkHostsInboundRuleForTheTunnelIsAWarning() throws {
        let inventory = try Self.inventory(tunnels: Self.good, workAllow: "[{from: [gw1], ports: [22]}, {from: any, ports: [9000]}, {from: [admins], ports: [80]}]")
        let firewall = try #require(try PolicyFixtures.compile("office1", in: inventory))
        let paths = firewall.notes.filter { $0.kind == .warning && $0.message.contains("needs no inbound rule") }.compactMap(\.path)
        #expect(paths == ["firewall.allow[0]", "firewall.allow[1]"], "\(firewall.notes)")
    }

    @Test func tunnelProblemsFailEveryHostThatCarriesTheEntry() throws {
        let inventory = try Self.inventory(tunnels: "- {name: x, home: nosuch, work: [office1], service: \"127.0.0.1:22\", client_port: 1, control_port: 2, allow: [admins]}")
        for host in ["gw1", "office1", "admin1"] {
            #expect(PolicyFixtures.errors(host, in: inventory).contains { $0.path == "tunnels[0].home" }, "\(host)")
        }
    }
}
