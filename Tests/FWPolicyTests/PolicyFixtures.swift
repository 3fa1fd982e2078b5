import FWInventory
import FWPolicy

/// Small inventories for policy tests, written inline so each test shows the policy it checks.
enum PolicyFixtures {
    static func inventory(_ yaml: String) throws -> Inventory {
        try Inventory.parse(yaml: yaml, file: "test.yml")
    }

    /// Compiles one host, failing the test's expectations through the thrown errors.
    static func compile(_ host: String, in inventory: Inventory, setThreshold: Int = 16,
                        target: FirewallTarget? = nil) throws -> HostFirewall? {
        let compiler = PolicyCompiler(setThreshold: setThreshold, forcedTarget: target)
        return try compiler.compile(host: host, addressBook: AddressBook(inventory: inventory))
    }

    /// The errors compiling a host produces (empty when it compiles).
    static func errors(_ host: String, in inventory: Inventory) -> [PolicyError] {
        do {
            _ = try compile(host, in: inventory)
            return []
        } catch let error as PolicyErrors {
            return error.errors
        } catch {
            return [PolicyError(message: "unexpected \(error)")]
        }
    }

    /// A small fleet: a bastion, two web servers, an app server, a database (dual-stack) and a v6-only cache.
    static let fleet = """
        all:
          vars:
            firewall:
              target: iptables
              default: drop
              management: [bastion]
          children:
            bastion:
              hosts:
                bastion1: {ansible_host: 192.0.2.10, fw_addresses: ["2001:db8::10"]}
            web:
              hosts:
                web1: {ansible_host: 192.0.2.21}
                web2: {ansible_host: 192.0.2.22}
              vars:
                firewall:
                  allow:
                    - {from: any, ports: [80, 443], comment: public web}
            app:
              hosts:
                app1: {ansible_host: 192.0.2.31}
              vars:
                firewall:
                  allow:
                    - {from: web, ports: [8080]}
            db:
              hosts:
                db1: {ansible_host: 192.0.2.41, fw_addresses: ["2001:db8::41"]}
              vars:
                firewall:
                  target: nftables
                  allow:
                    - {from: [app, 198.51.100.0/24], ports: [5432, "8000:8100"], interface: eth1, comment: app to postgres}
            cache:
              hosts:
                cache1: {ansible_host: "2001:db8::51"}
              vars:
                firewall:
                  allow:
                    - {from: [app, web], proto: udp, ports: [11211]}
        """
}
