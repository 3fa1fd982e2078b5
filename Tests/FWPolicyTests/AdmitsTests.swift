import FWInventory
import Testing
@testable import FWPolicy

/// `HostFirewall.admits`: what the compiled rules let in, the policy side of `fwctl lab probe --expect`.
@Suite struct AdmitsTests {
    static let policy = """
        all:
          vars:
            firewall:
              default: drop
              management: [bastion, 203.0.113.128/25]
          children:
            bastion:
              hosts:
                bastion1: {ansible_host: 192.0.2.10, fw_addresses: ["2001:db8::10"]}
            web:
              hosts:
                web1: {ansible_host: 192.0.2.11, ansible_port: 2222, fw_addresses: ["2001:db8::11"]}
              vars:
                firewall:
                  allow:
                    - {from: any, proto: tcp, ports: [80, "8000:8100"]}
                    - {from: [198.51.100.0/24], proto: udp, ports: [53]}
                    - {from: [bastion], ports: [9100], interface: eth1}
            open:
              hosts:
                open1: {ansible_host: 192.0.2.12}
              vars:
                firewall: {default: accept}
        """

    func web(setThreshold: Int = 16) throws -> HostFirewall {
        let inventory = try PolicyFixtures.inventory(Self.policy)
        return try #require(try PolicyFixtures.compile("web1", in: inventory, setThreshold: setThreshold))
    }

    func address(_ text: String) throws -> IPNetwork { try IPNetwork(parsing: text) }

    @Test func managementOpensTheSSHPortToItsSourcesOnly() throws {
        let firewall = try web()
        #expect(firewall.admits(source: try address("192.0.2.10"), protocol: .tcp, port: 2222, interface: "eth0"))
        #expect(firewall.admits(source: try address("2001:db8::10"), protocol: .tcp, port: 2222, interface: "eth0"))
        #expect(firewall.admits(source: try address("203.0.113.200"), protocol: .tcp, port: 2222, interface: "eth0"))
        #expect(!firewall.admits(source: try address("203.0.113.127"), protocol: .tcp, port: 2222, interface: "eth0"))
        #expect(!firewall.admits(source: try address("192.0.2.10"), protocol: .tcp, port: 22, interface: "eth0"), "SSH is on 2222")
        #expect(!firewall.admits(source: try address("192.0.2.10"), protocol: .udp, port: 2222, interface: "eth0"))
    }

    @Test func allowRulesMatchProtocolPortsRangesSourcesAndInterface() throws {
        let firewall = try web()
        let anywhere = try address("2001:db8:ffff::1")
        #expect(firewall.admits(source: anywhere, protocol: .tcp, port: 80, interface: "eth0"))
        #expect(firewall.admits(source: anywhere, protocol: .tcp, port: 8000, interface: "eth0"))
        #expect(firewall.admits(source: anywhere, protocol: .tcp, port: 8100, interface: "eth0"))
        #expect(!firewall.admits(source: anywhere, protocol: .tcp, port: 8101, interface: "eth0"))
        #expect(!firewall.admits(source: anywhere, protocol: .udp, port: 80, interface: "eth0"))
        #expect(firewall.admits(source: try address("198.51.100.7"), protocol: .udp, port: 53, interface: "eth0"))
        #expect(!firewall.admits(source: try address("198.51.101.7"), protocol: .udp, port: 53, interface: "eth0"))
        #expect(!firewall.admits(source: try address("198.51.100.7"), protocol: .tcp, port: 53, interface: "eth0"))
        // The 9100 rule is bound to eth1.
        #expect(firewall.admits(source: try address("192.0.2.10"), protocol: .tcp, port: 9100, interface: "eth1"))
        #expect(!firewall.admits(source: try address("192.0.2.10"), protocol: .tcp, port: 9100, interface: "eth0"))
        // Replies and loopback rules never let a first packet in from outside.
        #expect(!firewall.admits(source: try address("192.0.2.99"), protocol: .tcp, port: 5432, interface: "eth0"))
        #expect(firewall.admits(source: try address("192.0.2.99"), protocol: .tcp, port: 5432, interface: "lo"))
    }

    @Test func namedSetsAdmitTheirMembers() throws {
        let firewall = try web(setThreshold: 1)
        #expect(firewall.sets.contains { $0.family == .v4 })
        #expect(firewall.admits(source: try address("203.0.113.130"), protocol: .tcp, port: 2222, interface: "eth0"))
        #expect(!firewall.admits(source: try address("192.0.2.11"), protocol: .tcp, port: 2222, interface: "eth0"))
    }

    @Test func defaultAcceptAdmitsEverything() throws {
        let inventory = try PolicyFixtures.inventory(Self.policy)
        let open = try #require(try PolicyFixtures.compile("open1", in: inventory))
        #expect(open.admits(source: try address("198.18.0.1"), protocol: .tcp, port: 12345, interface: "eth0"))
    }

    @Test func networksContainTheirAddressesOnly() throws {
        #expect(try address("10.0.0.0/8").contains(try address("10.255.1.2")))
        #expect(!(try address("10.0.0.0/8").contains(try address("11.0.0.1"))))
        #expect(try address("0.0.0.0/0").contains(try address("203.0.113.1")))
        #expect(!(try address("0.0.0.0/0").contains(try address("::1"))))
        #expect(try address("2001:db8::/32").contains(try address("2001:db8:ffff::1")))
        #expect(!(try address("2001:db8::/32").contains(try address("2001:db9::1"))))
        #expect(!(try address("10.0.0.0/16").contains(try address("10.0.0.0/8"))))
        #expect(try address("10.0.0.1").contains(try address("10.0.0.1")))
    }
}
