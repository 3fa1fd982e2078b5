import FWInventory
import Testing
@testable import FWPolicy

/// Nothing in the policy is dropped without a word.
@Suite struct SilentDropTests {
    @Test func anEmptyFromListIsAnError() throws {
        let inventory = try PolicyFixtures.inventory("""
            all:
              hosts:
                h1: {ansible_host: 192.0.2.1}
              vars:
                firewall:
                  management: [192.0.2.9]
                  allow:
                    - {from: [], ports: [80]}
            """)
        let errors = PolicyFixtures.errors("h1", in: inventory)
        #expect(errors.contains { $0.path == "firewall.allow[0].from" && $0.message.contains("allow no one") }, "\(errors)")
    }

    @Test func ufwICMPRulesAreANoteAndNotCounted() throws {
        let inventory = try PolicyFixtures.inventory("""
            all:
              hosts:
                h1: {ansible_host: 192.0.2.1}
              vars:
                firewall:
                  target: ufw
                  management: [192.0.2.9]
                  allow:
                    - {from: any, proto: icmp}
            """)
        let ufw = try #require(try PolicyFixtures.compile("h1", in: inventory))
        #expect(!ufw.rules.contains { $0.kind == .allow }, "no rule that user.rules would not hold")
        let note = try #require(ufw.notes.first)
        #expect(note.kind == .warning && note.message.contains("before.rules") && note.path == "firewall.allow[0]")
        let iptables = try #require(try PolicyFixtures.compile("h1", in: inventory, target: .iptables))
        #expect(iptables.notes.isEmpty)
        #expect(iptables.rules.contains { $0.kind == .allow && $0.proto == .icmp })
    }
}
