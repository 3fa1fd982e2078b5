import Foundation
import Testing
import TestSupport

/// `fwctl lab probe --expect` against rules rendered by fwctl and loaded by hand into the lab hosts: iptables on
/// web, nftables on app, ufw on db.
@Suite(.serialized) struct LabProbeTests {
    static let inventory = """
        all:
          vars:
            ansible_user: ops
          children:
            admin:
              hosts:
                admin1: {ansible_host: 198.51.100.10, fw_addresses: ["2001:db8:90::10"]}
            outsider:
              hosts:
                out1: {ansible_host: 198.51.100.20, fw_addresses: ["2001:db8:90::20"]}
            managed:
              vars:
                firewall:
                  default: drop
                  management: [admin, 203.0.113.128/25]
              children:
                web:
                  hosts:
                    web1: {ansible_host: 198.51.100.11, fw_addresses: ["2001:db8:90::11"]}
                  vars:
                    firewall:
                      target: iptables
                      allow:
                        - {from: any, ports: [80], comment: public web}
                app:
                  hosts:
                    app1: {ansible_host: 198.51.100.12, fw_addresses: ["2001:db8:90::12"]}
                  vars:
                    firewall:
                      target: nftables
                      allow:
                        - {from: web, ports: [8080]}
                db:
                  hosts:
                    db1: {ansible_host: 198.51.100.13, ansible_port: 2222}
                  vars:
                    firewall:
                      target: ufw
                      default: reject
                      allow:
                        - {from: app, ports: [5432], comment: app to postgres}
        """

    struct Row: Decodable {
        var from: String
        var to: String
        var address: String
        var port: Int
        var open: Bool
        var expected: Bool?
    }

    func probe(_ lab: String, inventory: String) throws -> (ProcessResult, [Row]) {
        let result = try LabSupport.run(["lab", "probe", "--name", lab, "-i", inventory, "--ports", "22,80,2222,5432,8080",
                                         "--timeout", "0.5", "--expect", "--json"])
        let rows = (try? JSONDecoder().decode([Row].self, from: result.stdout)) ?? []
        return (result, rows)
    }

    func load(_ lab: String, inventory: String, templates: String, folder: TemporaryFolder) throws {
        let out = folder.path("out")
        try? FileManager.default.removeItem(atPath: out)
        try LabSupport.check(["render", "-i", inventory, "-o", out, "--templates", templates, "-q"])
        let loaded = try runProcess(RepoPaths.root.appendingPathComponent("scripts/lab-load-rules").path, [LabSupport.fwctl, lab, out])
        #expect(loaded.status == 0, "lab-load-rules: \(loaded.stderrText)")
        #expect(loaded.stdoutText.contains("web1: iptables") && loaded.stdoutText.contains("app1: nftables") && loaded.stdoutText.contains("db1: ufw"),
                "\(loaded.stdoutText)")
    }

    @Test func probeAgreesWithTheRenderedPolicyAndCatchesABrokenTemplate() throws {
        try Integration.require(LabSupport.requirements + [.command("iptables-restore"), .command("nft"), .command("ufw"), .command("python3")])
        let lab = LabSupport.labName("p")
        defer { LabSupport.cleanUp(lab) }
        let folder = try TemporaryFolder("fwctl-lab-probe", files: ["hosts.yml": Self.inventory])
        defer { folder.remove() }
        let inventory = folder.path("hosts.yml")
        try LabSupport.check(["lab", "up", "-i", inventory, "--name", lab, "-q"])

        // Before any rules: everything is open, and the policy says much should not be.
        let (open, openRows) = try probe(lab, inventory: inventory)
        #expect(open.status == 1 && !openRows.isEmpty && openRows.allSatisfy(\.open), "\(open.stderrText)")

        try load(lab, inventory: inventory, templates: LabSupport.templates, folder: folder)
        let status = LabSupport.hosts(try LabSupport.status(lab))
        #expect((status["web1"]?["firewall"] as? [String: Any])?["kind"] as? String == "iptables")
        #expect((status["app1"]?["firewall"] as? [String: Any])?["kind"] as? String == "nftables")
        #expect((status["db1"]?["firewall"] as? [String: Any])?["kind"] as? String == "ufw")

        let (agreed, rows) = try probe(lab, inventory: inventory)
        #expect(agreed.status == 0, "\(agreed.stderrText)")
        #expect(rows.allSatisfy { $0.open == $0.expected })
        func connects(_ from: String, _ to: String, _ port: Int, v6: Bool = false) -> Bool? {
            rows.first { $0.from == from && $0.to == to && $0.port == port && $0.address.contains(":") == v6 }?.open
        }
        // The policy, spelled out: the matrix is not all one outcome, and the right pairs get through.
        #expect(connects("admin1", "web1", 22) == true)
        #expect(connects("admin1", "web1", 22, v6: true) == true)
        #expect(connects("out1", "web1", 22) == false)
        #expect(connects("out1", "web1", 80, v6: true) == true)
        #expect(connects("web1", "app1", 8080) == true)
        #expect(connects("out1", "app1", 8080) == false)
        #expect(connects("app1", "db1", 5432) == true)
        #expect(connects("web1", "db1", 5432) == false)
        #expect(connects("admin1", "db1", 2222) == true)
        #expect(connects("(controller)", "web1", 22) == true, "the controller stands in the management network")
        #expect(connects("(controller)", "web1", 22, v6: true) == false, "no IPv6 management network: the controller's IPv6 address is none the policy trusts")
        #expect(connects("web1", "out1", 80) == true, "unmanaged hosts are open")

        // One broken template line (web's port 80 rule opens 180 instead): the probe names the difference.
        let broken = folder.path("templates")
        _ = try runProcess("/bin/cp", ["-r", LabSupport.templates, broken])
        let rule = broken + "/iptables/rule.mustache"
        let text = try String(contentsOfFile: rule, encoding: .utf8)
        #expect(text.contains("--dport {{port}}"))
        try text.replacingOccurrences(of: "--dport {{port}}", with: "--dport 1{{port}}").write(toFile: rule, atomically: true, encoding: .utf8)
        try load(lab, inventory: inventory, templates: broken, folder: folder)
        let (differs, brokenRows) = try probe(lab, inventory: inventory)
        #expect(differs.status == 1)
        #expect(differs.stderrText.contains("-> web1 198.51.100.11 port 80: closed"), "\(differs.stderrText)")
        let wrong = brokenRows.filter { $0.open != $0.expected }
        #expect(!wrong.isEmpty && wrong.allSatisfy { $0.to == "web1" }, "\(wrong)")
    }
}
