import FWInventory
import Testing
@testable import FWPolicy

@Suite struct PolicyCompilerTests {
    @Test func managementComesFirstThenBaseRulesThenAllows() throws {
        let inventory = try PolicyFixtures.inventory(PolicyFixtures.fleet)
        let web = try #require(try PolicyFixtures.compile("web1", in: inventory))
        let kinds = web.rules(.v4).map(\.kind)
        #expect(kinds == [.management, .loopback, .established, .allow])
        let management = web.rules(.v4)[0]
        #expect(management.sources == .networks([try IPNetwork(parsing: "192.0.2.10")]))
        #expect(management.ports == [PortRange(low: 22, high: 22)!])
        #expect(management.proto == .tcp)
        #expect(web.rules(.v6).map(\.kind) == [.management, .loopback, .established, .neighbourDiscovery, .allow])
        #expect(web.rules(.v6)[0].sources == .networks([try IPNetwork(parsing: "2001:db8::10")]))
    }

    @Test func scalarsFollowPrecedenceAndListsAccumulate() throws {
        let inventory = try PolicyFixtures.inventory(PolicyFixtures.fleet)
        let db = try #require(try PolicyFixtures.compile("db1", in: inventory))
        #expect(db.target == .nftables, "the db group's target overrides all's")
        #expect(db.defaultAction == .drop, "all's default is inherited")
        let allow = db.rules(.v4).filter { $0.kind == .allow }
        #expect(allow.count == 1)
        #expect(allow[0].interface == "eth1")
        #expect(allow[0].ports == [PortRange(low: 5432, high: 5432)!, PortRange(low: 8000, high: 8100)!])
        #expect(allow[0].sources == .networks([try IPNetwork(parsing: "192.0.2.31"), try IPNetwork(parsing: "198.51.100.0/24")]))
        #expect(db.addresses.map(\.description) == ["192.0.2.41", "2001:db8::41"])
    }

    @Test func groupReferencesResolveToAddressesOfEachFamily() throws {
        let inventory = try PolicyFixtures.inventory(PolicyFixtures.fleet)
        let cache = try #require(try PolicyFixtures.compile("cache1", in: inventory))
        let v4 = cache.rules(.v4).filter { $0.kind == .allow }
        #expect(v4.count == 1)
        #expect(v4[0].proto == .udp)
        #expect(v4[0].sources.count == 3, "app1, web1, web2")
        #expect(cache.rules(.v6).first?.kind == .management, "reached over IPv6, managed from the bastion's IPv6 address")
        // Nobody in app or web has an IPv6 address: no IPv6 allow rule at all (not an allow-all).
        #expect(cache.rules(.v6).filter { $0.kind == .allow }.isEmpty)
    }

    @Test func anyProtocolWithPortsBecomesTCPAndUDP() throws {
        let inventory = try PolicyFixtures.inventory("""
            all:
              hosts:
                dns1: {ansible_host: 192.0.2.53}
              vars:
                firewall:
                  management: [192.0.2.0/24]
                  allow:
                    - {from: any, proto: any, ports: [53]}
            """)
        let dns = try #require(try PolicyFixtures.compile("dns1", in: inventory))
        let allows = dns.rules(.v4).filter { $0.kind == .allow }
        #expect(allows.map(\.proto) == [.tcp, .udp])
    }

    @Test func manyPortsAreSplitIntoMultiportGroups() throws {
        let ports = (1...20).map { "\(1000 + $0 * 10)" }.joined(separator: ", ")
        let inventory = try PolicyFixtures.inventory("""
            all:
              hosts:
                h1: {ansible_host: 192.0.2.1}
              vars:
                firewall:
                  management: [192.0.2.0/24]
                  allow:
                    - {from: any, ports: [\(ports)]}
            """)
        let host = try #require(try PolicyFixtures.compile("h1", in: inventory))
        let allows = host.rules(.v4).filter { $0.kind == .allow }
        #expect(allows.map(\.ports.count) == [15, 5])
    }

    @Test func largeGroupsBecomeNamedSetsExceptForUFW() throws {
        // Every other address: neighbours would be merged into networks (see AddressNormalisationTests).
        let hosts = (1...20).map { "        n\($0): {ansible_host: 192.0.2.\(2 * $0 + 100)}" }.joined(separator: "\n")
        let inventory = try PolicyFixtures.inventory("""
            all:
              vars:
                firewall:
                  management: [192.0.2.0/24]
              children:
                nodes:
                  hosts:
            \(hosts)
                  vars:
                    firewall:
                      allow:
                        - {from: nodes, ports: [7000]}
                        - {from: nodes, ports: [7001], proto: udp}
            """)
        let host = try #require(try PolicyFixtures.compile("n1", in: inventory))
        #expect(host.sets.count == 1, "both rules share one set")
        #expect(host.sets.first?.name == "fw_nodes_v4")
        #expect(host.sets.first?.members.count == 20)
        let allows = host.rules(.v4).filter { $0.kind == .allow }
        #expect(allows.allSatisfy { if case .set = $0.sources { true } else { false } })

        let ufw = try #require(try PolicyFixtures.compile("n1", in: inventory, target: .ufw))
        #expect(ufw.sets.isEmpty)
        #expect(ufw.rules(.v4).filter { $0.kind == .allow }.allSatisfy { $0.sources.count == 20 })
    }

    @Test func hostsWithoutFirewallVarsAreUnmanaged() throws {
        let inventory = try PolicyFixtures.inventory("""
            all:
              hosts:
                plain: {ansible_host: 192.0.2.1}
            """)
        #expect(try PolicyFixtures.compile("plain", in: inventory) == nil)
    }

    @Test func sshPortFollowsAnsiblePort() throws {
        let inventory = try PolicyFixtures.inventory("""
            all:
              hosts:
                h1: {ansible_host: 192.0.2.1, ansible_port: 2222}
              vars:
                firewall: {management: [192.0.2.0/24]}
            """)
        let host = try #require(try PolicyFixtures.compile("h1", in: inventory))
        #expect(host.sshPort == 2222)
        #expect(host.rules(.v4)[0].ports == [PortRange(low: 2222, high: 2222)!])
    }

    @Test func theSameRuleFromTwoGroupsIsWrittenOnce() throws {
        let inventory = try PolicyFixtures.inventory("""
            all:
              vars:
                firewall:
                  management: [192.0.2.0/24]
                  allow: [{from: any, ports: [80], comment: web}]
              children:
                prod:
                  hosts:
                    h1: {ansible_host: 192.0.2.1}
                  vars:
                    firewall:
                      allow:
                        - {from: any, ports: [80], comment: web}
                        - {from: any, ports: [80], comment: web again}
            """)
        let host = try #require(try PolicyFixtures.compile("h1", in: inventory))
        // all's rule and prod's identical rule collapse; a different comment makes a different rule.
        #expect(host.rules(.v4).filter { $0.kind == .allow }.map(\.comment) == ["web", "web again"])
    }
}

@Suite struct FleetRenderTests {
    @Test func aFailedWriteIsAnOutputProblemNotAnInputOne() throws {
        struct DiskFull: Error {}
        let inventory = try PolicyFixtures.inventory(PolicyFixtures.fleet)
        let renderer = try FirewallRenderer(templatesDirectory: RenderFixtures.templates, generator: "fwctl")
        let fleet = FleetRender(compiler: PolicyCompiler(), renderer: renderer)
        let results = fleet.run(hosts: ["web1", "db1"], inventory: inventory) { host, _ in
            if host == "db1" { throw DiskFull() }
        }
        guard case .rendered = results[0].outcome, case .failed(let errors) = results[1].outcome else {
            Issue.record("expected web1 rendered and db1 failed: \(results.map(\.outcome))")
            return
        }
        #expect(errors.map(\.kind) == [.output])
        #expect(!PolicyErrors(errors).includesInvalidInput)
    }
}

/// How sources naming groups and hosts resolve when the inventory makes them ambiguous or unusable.
@Suite struct SourceNameTests {
    /// A group of hosts named by DNS name (no `--resolve`), named by a rule every host has: one problem per
    /// host, not one per host and member (which grew with the square of the fleet: a million at 1,000 hosts).
    @Test func aGroupWithoutAddressesIsOneProblemPerHostThatNamesIt() throws {
        let count = 200
        let hosts = (0..<count).map { "h\($0): {ansible_host: h\($0).example.invalid}" }.joined(separator: ", ")
        let inventory = try PolicyFixtures.inventory("""
            all:
              vars:
                firewall: {target: iptables, management: [203.0.113.5], allow: [{from: [srv], ports: [80]}]}
              children:
                srv: {hosts: {\(hosts)}}
                other: {hosts: {o1: {ansible_host: 192.0.2.7}}}
            """)
        let book = AddressBook(inventory: inventory)
        let compiler = PolicyCompiler(setThreshold: 16, forcedTarget: nil)
        var problems: [PolicyError] = []
        for host in ["o1"] + (0..<count).map({ "h\($0)" }) {
            do { _ = try compiler.compile(host: host, addressBook: book) } catch { problems += error.errors }
        }
        #expect(problems.count <= 2 * (count + 1), "\(problems.count) problems")
        let aboutTheGroup = problems.filter { $0.message.contains("group 'srv'") }
        #expect(aboutTheGroup.first?.message.contains("\(count) hosts whose address is unusable") == true, "\(aboutTheGroup.first?.message ?? "none")")
        #expect(aboutTheGroup.first?.message.contains("and \(count - 3) more") == true)
        #expect(aboutTheGroup.contains { $0.host == "o1" }, "the host that names the group hears of it")
    }

    /// `any` is the keyword for every address: a group or host of that name would turn a rule meant for a few
    /// partners into one open to all, so the rule is refused with the reason.
    @Test(arguments: ["group", "host"]) func aGroupOrHostNamedAnyIsRefusedInASource(_ kind: String) throws {
        let partner = kind == "group" ? "any: {hosts: {partner1: {ansible_host: 198.51.100.50}}}"
                                      : "partners: {hosts: {any: {ansible_host: 198.51.100.50}}}"
        let inventory = try PolicyFixtures.inventory("""
            all:
              vars:
                firewall: {target: iptables, management: [203.0.113.5], allow: [{from: [any], ports: [5432]}]}
              children:
                \(partner)
                srv: {hosts: {s1: {ansible_host: 192.0.2.10}}}
            """)
        let errors = PolicyFixtures.errors("s1", in: inventory)
        #expect(errors.contains { $0.message.contains("also has a \(kind) named 'any'") }, "\(errors.map(\.message))")
    }
}

/// Named sets: distinct names for distinct lists, and sizes the target can load.
@Suite struct NamedSetTests {
    /// A group may be named like the fingerprint that names another list's set: the two sets still get two names,
    /// and each rule matches its own list (one name for both had the second list's `ipset restore` replace the first).
    @Test func aGroupNamedLikeAnotherListsFingerprintGetsItsOwnSet() throws {
        let literal = (1...20).map { "10.9.0.\(2 * $0)" }
        let fingerprint = RuleListBuilder.fingerprint(IPNetwork.normalised(try literal.map { try IPNetwork(parsing: $0) }))
        let hosts = (1...20).map { "g\($0): {ansible_host: 10.8.0.\(2 * $0)}" }.joined(separator: ", ")
        let inventory = try PolicyFixtures.inventory("""
            all:
              vars:
                firewall:
                  target: iptables
                  management: [203.0.113.5]
                  allow: [{from: ["\(fingerprint)"], ports: [80]}, {from: [\(literal.joined(separator: ", "))], ports: [5432]}]
              children:
                "\(fingerprint)": {hosts: {\(hosts)}}
                srv: {hosts: {s1: {ansible_host: 192.0.2.10}}}
            """)
        let firewall = try #require(try PolicyFixtures.compile("s1", in: inventory))
        let sets = firewall.sets(.v4)
        #expect(sets.count == 2)
        #expect(Set(sets.map(\.name)).count == 2, "\(sets.map(\.name))")
        for rule in firewall.rules(.v4) where rule.kind == .allow {
            guard case .set(let set) = rule.sources else { Issue.record("rule without a set: \(rule)"); continue }
            let expected = rule.ports.contains { $0.low == 5432 } ? "10.9.0." : "10.8.0."
            #expect(set.members.allSatisfy { $0.description.hasPrefix(expected) }, "\(set.name): \(set.members.prefix(3))")
        }
    }

    /// An ipset holds 65,536 entries unless created bigger (and an existing set keeps its size): a larger set is
    /// refused by check, with the reason, instead of failing at the host's restore. A source list that long is also
    /// resolved in linear time (it was normalised again after each entry).
    @Test func anIpsetLargerThanItsCapacityIsRefused() throws {
        let count = PolicyCompiler.ipsetCapacity + 1
        let addresses = (0..<count).map { "10.\($0 / 32768).\(($0 / 128) % 256).\(($0 % 128) * 2)" }
        let inventory = try PolicyFixtures.inventory("""
            all:
              vars:
                firewall: {target: iptables, management: [203.0.113.5], allow: [{from: [\(addresses.joined(separator: ", "))], ports: [80]}]}
              hosts: {s1: {ansible_host: 192.0.2.10}}
            """)
        let errors = PolicyFixtures.errors("s1", in: inventory)
        #expect(errors.contains { $0.message.contains("would hold \(count) networks") }, "\(errors.map(\.message))")
        let nft = try PolicyFixtures.compile("s1", in: inventory, target: .nftables)
        #expect(nft?.sets(.v4).first?.members.count == count, "nftables sets have no such limit")
    }
}
