import Foundation
import Testing
import TestSupport

@testable import FWInventory

/// inventory/example is what later stages render and deploy: check it has the shape they rely on.
@Suite struct ExampleInventoryTests {
    let inventory: Inventory

    init() throws {
        inventory = try Inventory.load(RepoPaths.root.appendingPathComponent("inventory/example").path)
    }

    @Test func fleetShape() throws {
        #expect(inventory.hosts.count == 20)
        #expect(inventory.warnings.isEmpty, "\(inventory.warnings)")
        for group in ["bastion", "web", "app", "db", "cache", "monitoring", "prod", "dmz", "internal"] {
            #expect(inventory.hosts(inGroup: group)?.isEmpty == false, "group \(group)")
        }
        #expect(inventory.group(named: "prod")?.children == ["web", "app", "db", "cache"])
        #expect(inventory.group(named: "web")?.parents == ["prod", "dmz"])
    }

    /// Every address is a documentation address (RFC 5737, RFC 3849): the example never points at a real host.
    @Test func onlyDocumentationAddresses() throws {
        func isDocumentation(_ address: String) -> Bool {
            ["192.0.2.", "198.51.100.", "203.0.113."].contains { address.hasPrefix($0) } || address.lowercased().hasPrefix("2001:db8:")
        }
        var v6Only = 0, dualStack = 0
        for host in inventory.hosts {
            let vars = try #require(inventory.vars(of: host.name))
            let address = try #require(vars["ansible_host"]?.stringValue, "\(host) has no ansible_host")
            #expect(isDocumentation(address), "\(host): \(address)")
            let extra = vars["fw_addresses"]?.listValue?.compactMap(\.stringValue) ?? []
            for other in extra { #expect(isDocumentation(other), "\(host): \(other)") }
            let families = Set(([address] + extra).map { $0.contains(":") ? 6 : 4 })
            if families == [6] { v6Only += 1 }
            if families == [4, 6] { dualStack += 1 }
        }
        #expect(v6Only == 1)
        #expect(dualStack == 3, "mon1, and the two bastions (which manage the IPv6-only host)")
    }

    /// The firewall policy (issue 5's contract) is in the vars: a target per host, management from the bastions,
    /// rules accumulated over the scopes.
    @Test func firewallPolicyIsInTheVars() throws {
        var targets: [String: Int] = [:]
        for host in inventory.hosts {
            let vars = try #require(inventory.vars(of: host.name))
            // A scalar follows precedence: the most specific scope that sets it (merged `firewall` is only the
            // most specific group's mapping, as Ansible replaces dicts whole).
            let target = try #require(
                vars.scopes.last { $0.vars["firewall"]?["target"] != nil }?.vars["firewall"]?["target"]?.stringValue,
                "\(host) has no firewall.target")
            targets[target, default: 0] += 1
            let rules = vars.scopes.compactMap { $0.vars["firewall"]?["allow"]?.listValue }.joined()
            #expect(!rules.isEmpty, "\(host) has no allow rules")
            let management = vars.scopes.compactMap { $0.vars["firewall"]?["management"]?.listValue }.joined()
            #expect(management.contains("bastion"), "\(host) is not managed from the bastions")
        }
        #expect(targets["iptables"] ?? 0 > targets["ufw"] ?? 0)
        #expect(targets["ufw"] ?? 0 > 0)
        #expect(targets["nftables"] ?? 0 > 0)
        let db1 = try #require(inventory.vars(of: "db1"))
        let rules = db1.scopes.compactMap { $0.vars["firewall"]?["allow"]?.listValue }.joined()
        #expect(rules.contains { $0["interface"] == "eth1" })
        #expect(rules.contains { $0["comment"] == "nightly base backups" })
        let web = try #require(inventory.vars(of: "web1")?.scopes.last { $0.vars["firewall"] != nil })
        #expect(web.location(of: "firewall")?.file.hasSuffix("group_vars/web.yml") == true)
        let bastion = try inventory.connection(of: "bastion1")
        #expect(bastion.address == "203.0.113.10" && bastion.port == 2222 && bastion.user == "ops")
        #expect(bastion.jumpHosts.isEmpty)
        #expect(bastion.become == BecomeSettings(user: "root"))
        // The inner hosts go through the bastions, named as inventory hosts: their own address, port and user apply.
        let viaBastion1 = JumpHost(name: "bastion1", isInventoryHost: true, address: "203.0.113.10", port: 2222, user: "ops")
        let viaBastion2 = JumpHost(name: "bastion2", isInventoryHost: true, address: "203.0.113.11", port: 2222, user: "ops")
        #expect(try inventory.connection(of: "web-v6").jumpHosts == [viaBastion1])
        #expect(try inventory.connection(of: "db1").jumpHosts == [viaBastion2])
        let inner = try inventory.hosts.map(\.name).filter { try !inventory.connection(of: $0).jumpHosts.isEmpty }
        #expect(inner.count == 18)
        #expect(try inventory.hosts.allSatisfy { try inventory.connection(of: $0.name).warnings.isEmpty })
    }
}
