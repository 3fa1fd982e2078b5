import FWInventory
import Testing
@testable import FWLab

/// What `lab up` builds from an inventory, and the names it derives; no root needed.
@Suite struct LabPlanTests {
    func plan(_ yaml: String, controller: [String] = []) throws -> LabPlan {
        let inventory = try Inventory.parse(yaml: yaml, file: "lab.yml")
        return try LabPlan.make(inventory: inventory, hosts: inventory.hosts, controller: controller)
    }

    static let fleet = """
        all:
          vars:
            ansible_user: ops
            firewall:
              management: [bastion, 203.0.113.128/25]
          children:
            bastion:
              hosts:
                bastion1: {ansible_host: 203.0.113.129, ansible_port: 2222, fw_addresses: ["2001:db8::10"]}
          hosts:
            web1: {ansible_host: 198.51.100.11, ansible_user: root}
            v6only: {ansible_host: "2001:db8::20"}
        """

    @Test func hostsGetTheirPolicyAddressesPortAndUser() throws {
        let plan = try plan(Self.fleet)
        #expect(plan.hosts.map(\.name) == ["bastion1", "web1", "v6only"])
        #expect(plan.hosts[0] == LabHostPlan(name: "bastion1", addresses: ["203.0.113.129", "2001:db8::10"], port: 2222, user: "ops"))
        #expect(plan.hosts[1].user == nil, "root logs in as root")
        #expect(plan.hosts[2].addresses == ["2001:db8::20"] && plan.hosts[2].port == 22)
    }

    @Test func theControllerStandsInAManagementNetworkOnAFreeAddress() throws {
        let plan = try plan(Self.fleet)
        // 203.0.113.129 is bastion1's: the next one. No IPv6 management network and the only IPv6 management
        // address is a host's: a benchmarking address.
        #expect(plan.controllerAddresses == ["203.0.113.130", "2001:2::1"])
        let given = try self.plan(Self.fleet, controller: ["192.0.2.5", "2001:db8::99"])
        #expect(given.controllerAddresses == ["192.0.2.5", "2001:db8::99"])
        #expect(throws: LabInputError.self) { try self.plan(Self.fleet, controller: ["198.51.100.11"]) }
        #expect(throws: LabInputError.self) { try self.plan(Self.fleet, controller: ["192.0.2.0/24"]) }
    }

    @Test func twoHostsOnOneAddressOrANameForAnAddressAreRefused() throws {
        let shared = """
            all:
              hosts:
                a: {ansible_host: 192.0.2.1}
                b: {ansible_host: 192.0.2.2, fw_addresses: [192.0.2.1]}
            """
        #expect { try self.plan(shared) } throws: { "\($0)".contains("'a' and 'b' both have the address 192.0.2.1") }
        let named = "all:\n  hosts:\n    db.example.org: {}\n"
        #expect { try self.plan(named) } throws: { "\($0)".contains("DNS name") }
        let loopback = "all:\n  hosts:\n    a: {ansible_host: 127.0.0.1}\n    b: {ansible_host: \"fe80::1\"}\n"
        #expect { try self.plan(loopback) } throws: { "\($0)".contains("loopback") && "\($0)".contains("link-local") }
        let badUser = "all:\n  hosts:\n    a: {ansible_host: 192.0.2.1, ansible_user: \"Bad User\"}\n"
        #expect(throws: LabInputError.self) { try self.plan(badUser) }
    }

    @Test func labNamesAndTheNamesDerivedFromThem() throws {
        let lab = try LabName("t123a")
        #expect(lab.stateDirectory == "/run/fwctl/lab/t123a")
        #expect(lab.switchNamespace == "t123a.sw" && lab.controllerNamespace == "t123a.ctl")
        #expect(lab.hostNamespace(host: "web1", index: 3) == "t123a-web1")
        #expect(lab.hostNamespace(host: "a/b", index: 3) == "t123a_h3")
        for bad in ["", "a-b", "a.b", "with space", "x/y", String(repeating: "a", count: 17)] {
            #expect(throws: LabInputError.self, "\(bad)") { try LabName(bad) }
        }
    }

    @Test func knownHostsNamesCarryTheNonDefaultPort() {
        #expect(LabKeys.knownHostNames(LabHostPlan(name: "b", addresses: ["192.0.2.1", "2001:db8::1"], port: 2222, user: nil))
                == ["[b]:2222", "[192.0.2.1]:2222", "[2001:db8::1]:2222"])
        #expect(LabKeys.knownHostNames(LabHostPlan(name: "w", addresses: ["192.0.2.2"], port: 22, user: nil)) == ["w", "192.0.2.2"])
    }
}
