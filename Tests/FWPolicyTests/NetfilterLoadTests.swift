import FWInventory
import Foundation
import Testing
import TestSupport
@testable import FWBase
import FWPolicy

/// Every rendered file must be accepted by the real tools, inside a throwaway network namespace.
@Suite(.serialized) struct NetfilterLoadTests {
    static let requirements: [Integration.Requirement] = [
        .networkNamespaces, .command("iptables-restore"), .command("ip6tables-restore"), .command("nft"), .command("ipset"),
    ]

    func checkLoads(_ rendered: [(HostFirewall, [FileBytes])], lab: NetworkLab, folder: TemporaryFolder) throws {
        let host = try lab.addHost("nf\(rendered.count)")
        for (firewall, files) in rendered {
            let problems = Self.loadProblems(firewall, files, lab: lab, host: host, folder: folder)
            #expect(problems.isEmpty, "\(firewall.host): \(problems)")
        }
    }

    /// Loads one host's files with the real tools inside `host`'s namespace (`LoadCommands`); what they refused
    /// (empty: all loaded).
    static func loadProblems(_ firewall: HostFirewall, _ files: [FileBytes], lab: NetworkLab, host: NetworkLab.Host,
                             folder: TemporaryFolder) -> [String] {
        var problems: [String] = []
        var paths: [String: String] = [:]
        do {
            for file in files {
                let path = folder.path("\(firewall.host)-\(file.name)")
                try Data(file.bytes).write(to: URL(fileURLWithPath: path))
                paths[file.name] = path
            }
        } catch {
            return ["cannot write the files: \(error)"]
        }
        func run(_ arguments: [String]) {
            do {
                let result = try lab.run(host, arguments)
                if result.status != 0 { problems.append("\(arguments.joined(separator: " ")): \(result.stderrText)") }
            } catch {
                problems.append("\(arguments[0]): \(error)")
            }
        }
        for command in LoadCommands.commands(for: firewall.target, paths: paths) { run(command) }
        return problems
    }

    @Test(arguments: FirewallTarget.allCases)
    func exampleFilesPassTheRealParsers(target: FirewallTarget) throws {
        try Integration.require(Self.requirements)
        let lab = try NetworkLab()
        defer { lab.shutdown() }
        let folder = try TemporaryFolder("fwctl-netfilter")
        defer { folder.remove() }
        let rendered = try RenderFixtures.render(try RenderFixtures.example, target: target)
        #expect(rendered.count == 20)
        try checkLoads(rendered, lab: lab, folder: folder)
    }

    @Test(arguments: FirewallTarget.allCases)
    func namedSetsPassTheRealParsers(target: FirewallTarget) throws {
        try Integration.require(Self.requirements)
        let lab = try NetworkLab()
        defer { lab.shutdown() }
        let folder = try TemporaryFolder("fwctl-netfilter-sets")
        defer { folder.remove() }
        let rendered = try RenderFixtures.render(try RenderFixtures.largeFleet(), target: target)
        let node = try #require(rendered.first { $0.0.host == "node1" })
        if target == .ufw {
            #expect(node.0.sets.isEmpty, "ufw cannot match sets: one rule per address")
        } else {
            // admins (20 per family) for management and the eth0 rule share one set per family; nodes (40 v4, 13 v6)
            // is a set for IPv4 only; nodes plus a network is a second, hashed IPv4 set.
            let names = node.0.sets.map(\.name)
            #expect(names.count == 4, "\(names)")
            #expect(Set(names).isSuperset(of: ["fw_mgmt_v4", "fw_mgmt_v6", "fw_nodes_v4"]), "\(names)")
            #expect(names.contains { $0.hasPrefix("fw_") && $0.count == 22 && $0.hasSuffix("_v4") && $0 != "fw_nodes_v4" })
        }
        try checkLoads(rendered, lab: lab, folder: folder)
    }

    /// Each protocol with ports and without (a rule for all of tcp from a partner network), from addresses, from
    /// a set and from anywhere, in both families: every target's files load. nftables once wrote `tcp accept`
    /// for a protocol without ports, which nft refuses.
    @Test(arguments: FirewallTarget.allCases)
    func everyProtocolWithAndWithoutPortsPassesTheRealParsers(target: FirewallTarget) throws {
        try Integration.require(Self.requirements)
        let lab = try NetworkLab()
        defer { lab.shutdown() }
        let folder = try TemporaryFolder("fwctl-netfilter-protocols")
        defer { folder.remove() }
        let partners = (1...20).map { "p\($0): {ansible_host: 10.40.0.\(2 * $0), fw_addresses: [\"fd40::\(2 * $0)\"]}" }.joined(separator: ", ")
        let inventory = try PolicyFixtures.inventory("""
            all:
              vars:
                firewall:
                  management: [203.0.113.5, "2001:db8::5"]
                  allow:
                    - {from: [198.51.100.0/24, "2001:db8:1::/48"], proto: tcp}
                    - {from: [198.51.100.0/24, "2001:db8:1::/48"], proto: udp}
                    - {from: [partners], proto: tcp}
                    - {from: [any], proto: udp}
                    - {from: [any], proto: icmp}
                    - {from: [198.51.100.7], proto: any}
                    - {from: [partners], proto: udp, ports: [53, "5000:5010"]}
                    - {from: [any], ports: [443]}
              children:
                partners: {hosts: {\(partners)}}
                srv: {hosts: {s1: {ansible_host: 192.0.2.10, fw_addresses: ["2001:db8::10"]}}}
            """)
        let rendered = try RenderFixtures.render(inventory, target: target).filter { $0.0.host == "s1" }
        #expect(rendered.count == 1)
        try checkLoads(rendered, lab: lab, folder: folder)
    }

    @Test func aBrokenFileIsRejected() throws {
        // The loads above prove something only if the tools do reject a bad file in this setup.
        try Integration.require(Self.requirements)
        let lab = try NetworkLab()
        defer { lab.shutdown() }
        let host = try lab.addHost("bad")
        let folder = try TemporaryFolder("fwctl-netfilter-bad", files: [
            "rules.v4": "*filter\n:INPUT DROP [0:0]\n-A INPUT -p tcp --dport 99999 -j ACCEPT\nCOMMIT\n",
            "bad.nft": "table inet fwctl {\n chain input { tcp dport { 99999 } accept }\n}\n",
        ])
        defer { folder.remove() }
        #expect(try lab.run(host, ["iptables-restore", "--test", folder.path("rules.v4")]).status != 0)
        #expect(try lab.run(host, ["nft", "-c", "-f", folder.path("bad.nft")]).status != 0)
    }
}
