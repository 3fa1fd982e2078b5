import FWInventory
import Foundation
import Testing
import TestSupport
@testable import FWBase
import FWPolicy

/// The behaviour test: a small fleet of namespace hosts, each loading its rendered rules for real (iptables on web,
/// nftables on app, ufw on db), and every pair of hosts probed on every service port over IPv4 and IPv6. Exactly
/// the pairs the policy allows connect; all others do not.
@Suite(.serialized) struct ReachabilityTests {
    static let inventory = """
        all:
          children:
            admin:
              hosts:
                admin1: {ansible_host: 10.77.0.10, fw_addresses: ["fd77::10"]}
            outsider:
              hosts:
                out1: {ansible_host: 10.77.0.20, fw_addresses: ["fd77::20"]}
            managed:
              vars:
                firewall:
                  default: drop
                  management: [admin]
              children:
                web:
                  hosts:
                    web1: {ansible_host: 10.77.0.11, fw_addresses: ["fd77::11"]}
                  vars:
                    firewall:
                      target: iptables
                      allow:
                        - {from: any, ports: [80], comment: public web}
                app:
                  hosts:
                    app1: {ansible_host: 10.77.0.12, fw_addresses: ["fd77::12"]}
                  vars:
                    firewall:
                      target: nftables
                      allow:
                        - {from: web, ports: [8080]}
                db:
                  hosts:
                    db1: {ansible_host: 10.77.0.13, fw_addresses: ["fd77::13"]}
                  vars:
                    firewall:
                      target: ufw
                      default: reject
                      allow:
                        - {from: app, ports: [5432], comment: app to postgres}
        """

    static let ports = [22, 80, 8080, 5432]

    /// The policy above, written out by hand: who may reach which port of which host.
    static func allowed(from client: String, to server: String, port: Int) -> Bool {
        switch (server, port) {
        case (_, 22): return client == "admin1"
        case ("web1", 80): return true
        case ("app1", 8080): return client == "web1"
        case ("db1", 5432): return client == "app1"
        default: return false
        }
    }

    struct Probe: Sendable {
        var client: NetworkLab.Host
        var server: NetworkLab.Host
        var port: Int
        var ipv6: Bool
    }

    @Test func exactlyTheAllowedPairsConnect() throws {
        try Integration.require(.networkNamespaces, .command("socat"), .command("iptables-restore"), .command("nft"), .command("ufw"))
        let inventory = try Inventory.parse(yaml: Self.inventory, file: "lab.yml")
        let rendered = try RenderFixtures.render(inventory)
        #expect(rendered.map(\.0.host).sorted() == ["app1", "db1", "web1"])

        let lab = try NetworkLab()
        defer { lab.shutdown() }
        var hosts: [String: NetworkLab.Host] = [:]
        for name in ["admin1", "out1", "web1", "app1", "db1"] {
            let vars = try #require(inventory.vars(of: name))
            let v4 = try #require(vars["ansible_host"]?.stringValue)
            let v6 = try #require(vars["fw_addresses"]?[0]?.stringValue)
            hosts[name] = try lab.addHost(name, ipv4: "\(v4)/24", ipv6: "\(v6)/64")
        }
        let folder = try TemporaryFolder("fwctl-reach")
        defer { folder.remove() }

        for (firewall, files) in rendered {
            let host = hosts[firewall.host]!
            for port in Self.ports {
                try lab.spawn(host, ["socat", "TCP6-LISTEN:\(port),fork,reuseaddr,ipv6only=0", "EXEC:/bin/echo ok"])
            }
            for port in Self.ports { try lab.waitForListener(host, port: port) }
            try load(firewall, files, into: host, lab: lab, folder: folder)
        }

        var probes: [Probe] = []
        for client in hosts.values {
            for server in hosts.values where server.name != client.name && rendered.contains(where: { $0.0.host == server.name }) {
                for port in Self.ports {
                    probes.append(Probe(client: client, server: server, port: port, ipv6: false))
                    probes.append(Probe(client: client, server: server, port: port, ipv6: true))
                }
            }
        }
        let outcomes = try parallelMap(probes, width: 16) { probe in try connects(probe, lab: lab) }
        var mismatches: [String] = []
        for (probe, connected) in zip(probes, outcomes) {
            let expected = Self.allowed(from: probe.client.name, to: probe.server.name, port: probe.port)
            if connected != expected {
                mismatches.append("\(probe.client.name) -> \(probe.server.name):\(probe.port) \(probe.ipv6 ? "v6" : "v4"): "
                                  + "\(connected ? "connected" : "blocked"), policy says \(expected ? "allow" : "deny")")
            }
        }
        #expect(probes.count == 5 * 3 * 4 * 2 - 3 * 4 * 2)
        #expect(outcomes.contains(true) && outcomes.contains(false), "the matrix must have both outcomes")
        #expect(mismatches.isEmpty, "\(mismatches.joined(separator: "\n"))")
    }

    /// Installs a host's files the way each firewall expects them.
    func load(_ firewall: HostFirewall, _ files: [FileBytes], into host: NetworkLab.Host, lab: NetworkLab,
              folder: TemporaryFolder) throws {
        func saved(_ name: String) throws -> String {
            let file = try #require(files.first { $0.name == name }, "\(firewall.host) has no \(name)")
            let path = folder.path("\(firewall.host)-\(name)")
            try Data(file.bytes).write(to: URL(fileURLWithPath: path))
            return path
        }
        switch firewall.target {
        case .iptables:
            try lab.check(host, ["iptables-restore", try saved("rules.v4")])
            try lab.check(host, ["ip6tables-restore", try saved("rules.v6")])
        case .nftables:
            try lab.check(host, ["nft", "-f", try saved("fwctl.nft")])
        case .ufw:
            try lab.privateEtc(host, copying: "ufw")
            try lab.privateEtc(host, copying: "default")
            let etc = "/etc/netns/\(host.namespace)"
            for name in ["user.rules", "user6.rules"] {
                let file = try #require(files.first { $0.name == name })
                try Data(file.bytes).write(to: URL(fileURLWithPath: "\(etc)/ufw/\(name)"), options: .atomic)
            }
            // ufw-defaults holds KEY="VALUE" lines for /etc/default/ufw.
            let defaults = String(decoding: try Data(contentsOf: URL(fileURLWithPath: try saved("ufw-defaults"))), as: UTF8.self)
            var config = try String(contentsOfFile: "\(etc)/default/ufw", encoding: .utf8)
            for line in defaults.split(separator: "\n") where !line.hasPrefix("#") {
                let key = line.split(separator: "=")[0]
                config = config.split(separator: "\n", omittingEmptySubsequences: false)
                    .map { $0.hasPrefix("\(key)=") ? String(line) : String($0) }.joined(separator: "\n")
            }
            try config.write(toFile: "\(etc)/default/ufw", atomically: true, encoding: .utf8)
            try lab.check(host, ["ufw", "--force", "enable"])
        }
    }

    /// One TCP connection attempt; true when the server's listener answered.
    func connects(_ probe: Probe, lab: NetworkLab) throws -> Bool {
        let address = probe.ipv6 ? "TCP6:[\(probe.server.ipv6!)]:\(probe.port)" : "TCP4:\(probe.server.ipv4!):\(probe.port)"
        let result = try lab.run(probe.client, ["socat", "-T", "2", "-u", "\(address),connect-timeout=1", "STDOUT"], timeout: 10)
        return result.status == 0 && result.stdoutText.hasPrefix("ok")
    }
}

/// Maps in parallel on our worker threads (the probes block on child processes), at most `width` at once.
func parallelMap<T: Sendable, R: Sendable>(_ items: [T], width: Int, _ body: @escaping @Sendable (T) throws -> R) throws -> [R] {
    try ParallelRunner(parallelism: width).map(items) { _, item in Result { try body(item) } }.map { try $0.get() }
}
