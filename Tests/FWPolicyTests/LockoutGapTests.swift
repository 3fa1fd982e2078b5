import FWInventory
import Testing
@testable import FWPolicy

/// The anti-lockout check reasons about the address fwctl really connects to and what really opens SSH to it.
@Suite struct LockoutGapTests {
    func compile(_ hostVars: String, management: String, allow: String = "[]") throws -> (HostFirewall?, [PolicyError]) {
        let inventory = try Inventory.parse(ini: """
            [all:vars]
            firewall={"management": \(management), "allow": \(allow)}
            [bastion]
            b4 ansible_host=192.0.2.9
            b6 ansible_host=2001:db8::9
            [targets]
            t1 \(hostVars)
            """, file: "hosts")
        do {
            return (try PolicyFixtures.compile("t1", in: inventory), [])
        } catch let errors as PolicyErrors {
            return (nil, errors.errors)
        }
    }

    @Test func aV4MappedAddressIsReachedOverIPv4() throws {
        let (v4, v4Errors) = try compile("ansible_host=::ffff:192.0.2.10", management: #"["b4"]"#)
        #expect(v4Errors == [], "IPv4 management opens SSH to an IPv4-mapped address")
        #expect(v4?.addresses.first == .v4(address: 0xC000_020A, prefix: 32))
        let (_, v6Errors) = try compile("ansible_host=::ffff:192.0.2.10", management: #"["b6"]"#)
        #expect(v6Errors.contains { $0.kind == .lockout && $0.message.contains("IPv4") }, "\(v6Errors)")
    }

    @Test func theSSHHostVariableIsTheAddressChecked() throws {
        let (_, errors) = try compile("ansible_ssh_host=2001:db8::10", management: #"["b4"]"#)
        #expect(errors.contains { $0.kind == .lockout && $0.message.contains("2001:db8::10") }, "\(errors)")
        let (firewall, none) = try compile("ansible_ssh_host=2001:db8::10 ansible_ssh_port=2222", management: #"["b6"]"#)
        #expect(none == [])
        #expect(firewall?.sshPort == 2222)
    }

    @Test func conflictingConnectionVariablesAreAnErrorWithTheirLine() throws {
        let (_, errors) = try compile("ansible_host=192.0.2.10 ansible_ssh_host=192.0.2.11", management: #"["b4"]"#)
        #expect(errors.contains { $0.location?.file == "hosts" && $0.location?.line == 7 && $0.message.contains("ansible_ssh_host") },
                "\(errors)")
        let (_, portErrors) = try compile("ansible_host=192.0.2.10 ansible_port=22 ansible_ssh_port=2222", management: #"["b4"]"#)
        #expect(portErrors.contains { $0.location?.line == 7 && $0.message.contains("ansible_ssh_port") }, "\(portErrors)")
    }

    @Test(arguments: [#"["127.0.0.1"]"#, #"["127.0.0.0/8"]"#, #"["192.0.2.10"]"#, #"["0.0.0.0"]"#, #"["255.255.255.255"]"#,
                      #"["224.0.0.1"]"#, #"["239.0.0.0/8"]"#, #"["t1"]"#, #"["::1", "127.0.0.1"]"#])
    func sourcesNoOperatorCanBeAtDoNotCount(_ management: String) throws {
        let (firewall, errors) = try compile("ansible_host=192.0.2.10", management: management)
        #expect(firewall == nil)
        let lockout = try #require(errors.first { $0.kind == .lockout }, "\(errors)")
        #expect(lockout.location?.file == "hosts" && lockout.location?.line == 2, "names where management is set: \(lockout)")
        #expect(lockout.scope == "group 'all'", "\(lockout)")
    }

    @Test func aUselessSourceBesideAUsableOneIsAWarning() throws {
        let (firewall, errors) = try compile("ansible_host=192.0.2.10", management: #"["127.0.0.1", "b4"]"#)
        #expect(errors == [])
        let note = try #require(firewall?.notes.first)
        #expect(note.kind == .warning)
        #expect(note.path == "firewall.management[0]" && note.location?.line == 2)
        #expect(note.message.contains("loopback"))
    }

    @Test func anAllowRuleOpeningSSHCountsButNotOnOneInterface() throws {
        let (_, errors) = try compile("ansible_host=192.0.2.10", management: #"["127.0.0.1"]"#,
                                      allow: #"[{"from": "any", "ports": [22]}]"#)
        #expect(errors == [], "an allow rule for port 22 from anywhere opens SSH")
        let (_, onInterface) = try compile("ansible_host=192.0.2.10", management: #"["127.0.0.1"]"#,
                                           allow: #"[{"from": "any", "ports": [22], "interface": "eth9"}]"#)
        #expect(onInterface.contains { $0.kind == .lockout })
    }
}

/// Sources are judged by the addresses they cover, after merging: entries that are each useless stay useless
/// together, and a network of nothing but unusable addresses opens SSH to no one.
@Suite struct MergedSourceLockoutTests {
    func errors(_ hostLine: String, management: String) throws -> [PolicyError] {
        let inventory = try Inventory.parse(ini: """
            [all:vars]
            firewall={"management": \(management)}
            [targets]
            \(hostLine)
            """, file: "hosts")
        return PolicyFixtures.errors("s1", in: inventory)
    }

    @Test(arguments: [
        ("s1 ansible_host=2001:db8::10", #"["::", "::1"]"#),                            // merged into ::/127
        ("s1 ansible_host=192.0.2.10", #"["0.0.0.0/8"]"#),                              // never a source
        ("s1 ansible_host=192.0.2.10", #"["0.0.0.0/31"]"#),
        ("s1 ansible_host=192.0.2.10 fw_addresses='[\"192.0.2.11\"]'", #"["s1"]"#),     // the host itself, as 192.0.2.10/31
        ("s1 ansible_host=192.0.2.10", #"["127.0.0.0/8", "128.0.0.0/32"]"#),           // 128.0.0.0 is usable: no lockout
    ])
    func unusableSourcesStayUnusableWhenMerged(_ host: String, _ management: String) throws {
        let found = try errors(host, management: management)
        let usable = management.contains("128.0.0.0")
        #expect(found.contains { $0.kind == .lockout } == !usable, "\(management): \(found.map(\.message))")
    }

    @Test func aNetworkWithOneUsableAddressIsUsable() {
        #expect(IPNetwork.v4(address: 0x7E00_0000, prefix: 7).unusableSourceReasons() == nil, "126.0.0.0/7 holds 126.x")
        #expect(IPNetwork.v6(address: 0, prefix: 126).unusableSourceReasons() == nil, "::2 and ::3 are not special here")
        #expect(IPNetwork.v6(address: 0, prefix: 127).unusableSourceReasons() == ["the unspecified address ::", "loopback: only the host itself"])
        #expect(IPNetwork.v4(address: 0xE000_0000, prefix: 3).unusableSourceReasons() == nil)
        #expect(IPNetwork.v4(address: 0xF000_0000, prefix: 4).unusableSourceReasons() == nil, "240/4 other than broadcast")
        #expect(IPNetwork.v4(address: .max, prefix: 32).unusableSourceReasons() == ["the broadcast address"])
    }
}
