import FWInventory
import Foundation
import Testing
import TestSupport
@testable import FWPolicy

/// The rendered UFW files, loaded by real ufw in a namespace with its own /etc/ufw and /etc/default.
@Suite(.serialized) struct UFWTests {
    /// What `ufw status` should list for a host: one row per rule and source, as (to, from, comment).
    static func expectedStatusRows(_ firewall: HostFirewall) -> [String] {
        var rows: [String] = []
        for family in IPNetwork.Family.allCases {
            for rule in firewall.rules(family) where (rule.kind == .allow || rule.kind == .management) && rule.proto != .icmp {
                var to: String
                if rule.ports.isEmpty {
                    to = rule.proto == .any ? "Anywhere" : "Anywhere/\(rule.proto.rawValue)"
                } else {
                    to = rule.ports.map(\.description).joined(separator: ",") + "/\(rule.proto.rawValue)"
                }
                let sources: [String]
                switch rule.sources {
                case .any: sources = [family == .v6 ? "Anywhere (v6)" : "Anywhere"]
                case .networks(let networks): sources = networks.map(\.description)
                case .set: sources = ["<set>"]  // never for ufw
                }
                if family == .v6, case .any = rule.sources { to += " (v6)" }
                if let interface = rule.interface { to += " on \(interface)" }
                for source in sources {
                    rows.append("\(to) | \(source) | \(rule.comment ?? "")")
                }
            }
        }
        return rows
    }

    /// The rows of `ufw status` in the same (to, from, comment) shape.
    static func statusRows(_ status: String) -> [String] {
        let lines = status.split(separator: "\n").map(String.init)
        guard let dashes = lines.firstIndex(where: { $0.hasPrefix("--") }) else { return [] }
        return lines[(dashes + 1)...].compactMap { line -> String? in
            let (body, comment) = line.split(separator: "#", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces) }
                .pairOrSingle()
            let columns = body.components(separatedBy: "  ").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
            guard columns.count == 3, columns[1].hasPrefix("ALLOW") else { return nil }
            return "\(columns[0]) | \(columns[2]) | \(comment)"
        }
    }

    @Test(arguments: ["app1", "mon1", "db1", "web-v6"])
    func ufwLoadsTheFilesListsThePolicyAndKeepsOurLines(hostName: String) throws {
        try Integration.require(.networkNamespaces, .command("ufw"))
        let rendered = try RenderFixtures.render(try RenderFixtures.example, target: .ufw)
        let (firewall, files) = try #require(rendered.first { $0.0.host == hostName })
        let lab = try NetworkLab()
        defer { lab.shutdown() }
        let host = try lab.addHost("ufw", ipv4: "10.77.0.2/24")
        try lab.privateEtc(host, copying: "ufw")
        try lab.privateEtc(host, copying: "default")
        let etc = "/etc/netns/\(host.namespace)"
        for file in files where file.name.hasSuffix(".rules") {
            try Data(file.bytes).write(to: URL(fileURLWithPath: "\(etc)/ufw/\(file.name)"))
        }

        let enabled = try lab.run(host, ["ufw", "--force", "enable"])
        #expect(enabled.status == 0, "ufw enable: \(enabled.stderrText)")
        let status = try lab.run(host, ["ufw", "status"])
        #expect(status.stdoutText.contains("Status: active"))
        let listed = Self.statusRows(status.stdoutText)
        let expected = Self.expectedStatusRows(firewall)
        #expect(!expected.isEmpty)
        #expect(listed.sorted() == expected.sorted(), "ufw status:\n\(status.stdoutText)")

        // ufw regenerates every -A line from the tuples on the next change: ours must come back byte for byte.
        #expect(try lab.run(host, ["ufw", "allow", "65000/tcp"]).status == 0)
        #expect(try lab.run(host, ["ufw", "delete", "allow", "65000/tcp"]).status == 0)
        for file in files where file.name.hasSuffix(".rules") {
            let rewritten = try Data(contentsOf: URL(fileURLWithPath: "\(etc)/ufw/\(file.name)"))
            #expect(rewritten == Data(file.bytes), "ufw rewrote \(file.name) differently:\n\(Golden.firstDifference(expected: Data(file.bytes), actual: rewritten))")
        }
    }
}

private extension Array where Element == String {
    func pairOrSingle() -> (String, String) { (self.first ?? "", count > 1 ? self[1] : "") }
}
