import FWInventory
import FWPolicy
import Testing

/// The lockout check for hosts reached through jump hosts: SSH from the jump host must stay open.
@Suite struct JumpPathCheckTests {
    private func fleet(management: String, jump: String = "bastion1", extraAllow: String = "") throws -> Inventory {
        try PolicyFixtures.inventory("""
            all:
              vars:
                firewall:
                  target: iptables
                  default: drop
                  management: \(management)
              children:
                bastion:
                  hosts:
                    bastion1: {ansible_host: 192.0.2.10, fw_addresses: ["192.0.2.110", "2001:db8::10"]}
                    bastion2: {ansible_host: 192.0.2.11}
                office:
                  hosts:
                    desk: {ansible_host: 203.0.113.5}
                inner:
                  vars:
                    ansible_ssh_common_args: "-o ProxyJump=\(jump)"
                  hosts:
                    app1: {ansible_host: 10.0.0.1}
                    v6only: {ansible_host: "2001:db8::20"}
            \(extraAllow)
            """)
    }

    @Test func jumpHostAmongTheManagementSourcesIsFine() throws {
        let inventory = try fleet(management: "[bastion]")
        #expect(PolicyFixtures.errors("app1", in: inventory).isEmpty)
        #expect(PolicyFixtures.errors("v6only", in: inventory).isEmpty)
    }

    @Test func aPolicyCuttingTheJumpPathNamesTheJumpHost() throws {
        // SSH only from the office: the bastion that carries deploy's connection would be refused.
        let inventory = try fleet(management: "[office]")
        let errors = PolicyFixtures.errors("app1", in: inventory)
        #expect(errors.count == 1)
        let error = try #require(errors.first)
        #expect(error.kind == .lockout)
        #expect(error.host == "app1")
        #expect(error.message.contains("jump host 'bastion1'"))
        // Every IPv4 address of the jump host is refused, and named.
        #expect(error.message.contains("192.0.2.10, 192.0.2.110"))
        #expect(error.hint?.contains("bastion1") == true)
        // The bastion itself is reached directly and is not affected.
        #expect(PolicyFixtures.errors("bastion1", in: inventory).isEmpty)
    }

    @Test func onlyOneOfTheJumpHostsAddressesOpenIsStillACut() throws {
        let inventory = try fleet(management: "[office, 192.0.2.10]")
        let error = try #require(PolicyFixtures.errors("app1", in: inventory).first)
        #expect(error.message.contains("from its address 192.0.2.110"))
        #expect(!error.message.contains("192.0.2.10,"))
    }

    @Test func jumpByAddressAndFamilies() throws {
        // A jump given as an address not in the management networks.
        let byAddress = try fleet(management: "[bastion]", jump: "ops@198.51.100.7:2222")
        let error = try #require(PolicyFixtures.errors("app1", in: byAddress).first)
        #expect(error.message.contains("jump host '198.51.100.7'"))
        // A jump given by an inventory host's address stands for that host, with all of its addresses.
        let byHostAddress = try fleet(management: "[bastion]", jump: "192.0.2.10")
        #expect(PolicyFixtures.errors("v6only", in: byHostAddress).isEmpty)
        let cut = try fleet(management: "[office, 192.0.2.10, \"2001:db8::10\"]", jump: "192.0.2.10")
        #expect(PolicyFixtures.errors("app1", in: cut).first?.message.contains("from its address 192.0.2.110") == true)
        // An IPv6-only host behind a jump host without IPv6.
        let noV6 = try fleet(management: "[bastion]", jump: "bastion2")
        let v6 = try #require(PolicyFixtures.errors("v6only", in: noV6).first)
        #expect(v6.message.contains("which has no IPv6 address"))
        // A DNS name cannot be proven open.
        let named = try fleet(management: "[bastion]", jump: "jump.example.org")
        #expect(PolicyFixtures.errors("app1", in: named).first?.message.contains("a name fwctl does not resolve") == true)
    }
}

/// A chain of jump hosts (`ProxyJump=bastion1,bastion2`): each hop is reached from the one before it, so each must
/// let that one's SSH in, not only the last hop the target itself.
@Suite struct JumpChainTests {
    private func inventory(bastion2Management: String) throws -> Inventory {
        try PolicyFixtures.inventory("""
            all:
              vars:
                firewall: {target: iptables, default: drop, management: [203.0.113.128/25]}
              children:
                bastion:
                  hosts:
                    bastion1: {ansible_host: 203.0.113.10}
                    bastion2:
                      ansible_host: 10.0.0.2
                      firewall: {management: \(bastion2Management)}
                app:
                  hosts:
                    app1: {ansible_host: 10.0.1.21, ansible_ssh_common_args: "-o ProxyJump=bastion1,bastion2", firewall: {management: [bastion2]}}
            """)
    }

    @Test func aMiddleHopThatRefusesTheHopBeforeItIsALockout() throws {
        let errors = PolicyFixtures.errors("bastion2", in: try inventory(bastion2Management: "[]"))
        #expect(errors.contains { $0.kind == .lockout && $0.message.contains("jump host after 'bastion1' on the way to 'app1'") && $0.message.contains("203.0.113.10") },
                "\(errors.map(\.message))")
        #expect(PolicyFixtures.errors("app1", in: try inventory(bastion2Management: "[]")).isEmpty, "app1 itself lets bastion2 in")
    }

    /// A hop written as an address connects over that address's family: bastion1 reaches bastion2 at its IPv6
    /// address here, so bastion2 must let bastion1's IPv6 address in (its IPv4 one is not enough).
    @Test func aMiddleHopIsCheckedOverTheFamilyOfTheAddressInTheChain() throws {
        let inventory = try PolicyFixtures.inventory("""
            all:
              vars:
                firewall: {target: iptables, default: drop, management: [203.0.113.128/25, "2001:db8:9::/48"]}
              children:
                bastion:
                  hosts:
                    bastion1: {ansible_host: 203.0.113.10, fw_addresses: ["2001:db8:1::10"]}
                    bastion2: {ansible_host: 10.0.0.2, fw_addresses: ["2001:db8::2"], firewall: {management: [203.0.113.10]}}
                app:
                  hosts:
                    app1: {ansible_host: "2001:db8::21", ansible_ssh_common_args: "-o ProxyJump=bastion1,[2001:db8::2]", firewall: {management: [bastion2]}}
            """)
        let errors = PolicyFixtures.errors("bastion2", in: inventory)
        #expect(errors.contains { $0.kind == .lockout && $0.message.contains("2001:db8:1::10") }, "\(errors.map(\.message))")
    }

    @Test func aMiddleHopThatLetsTheHopBeforeItInIsFine() throws {
        #expect(PolicyFixtures.errors("bastion2", in: try inventory(bastion2Management: "[bastion1]")).isEmpty)
    }
}
