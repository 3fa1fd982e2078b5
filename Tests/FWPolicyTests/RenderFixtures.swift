import FWInventory
import FWBase
import Foundation
import Testing
import TestSupport
@testable import FWPolicy

/// Rendering helpers for the integration tests: templates from the repository, any inventory.
enum RenderFixtures {
    static let templates = RepoPaths.root.appendingPathComponent("templates").path

    /// Every managed host's firewall and files, in inventory order; throws the problems if any host fails. The
    /// generator string is fixed so golden files do not change with the version number.
    static func render(_ inventory: Inventory, target: FirewallTarget? = nil) throws -> [(HostFirewall, [FileBytes])] {
        let renderer = try FirewallRenderer(templatesDirectory: templates, generator: "fwctl")
        let fleet = FleetRender(compiler: PolicyCompiler(forcedTarget: target), renderer: renderer)
        let collected = CollectedFiles()
        let results = fleet.run(hosts: inventory.hosts.map(\.name), inventory: inventory) { host, files in
            collected.add(host, files)
        }
        return try results.compactMap { result in
            switch result.outcome {
            case .rendered(let firewall, let summaries):
                // The summaries a render reports must describe the files it handed to the sink.
                let files = collected.files(of: result.host)
                #expect(summaries == files.map { FleetRender.FileSummary(name: $0.name, byteCount: $0.bytes.count) })
                return (firewall, files)
            case .unmanaged: return nil
            case .failed(let errors): throw PolicyErrors(errors)
            }
        }
    }

    static var example: Inventory {
        get throws { try Inventory.load(RepoPaths.root.appendingPathComponent("inventory/example").path) }
    }

    /// A fleet whose groups are big enough for named sets, with IPv4, IPv6 and dual-stack members. Addresses are
    /// every other one, so normalising does not merge neighbours into networks.
    static func largeFleet() throws -> Inventory {
        let nodes = (1...40).map { i -> String in
            i % 3 == 0
                ? "        node\(i): {ansible_host: 10.20.0.\(2 * i), fw_addresses: [\"fd20::\(2 * i)\"]}"
                : "        node\(i): {ansible_host: 10.20.0.\(2 * i)}"
        }.joined(separator: "\n")
        let admins = (1...20).map { "        admin\($0): {ansible_host: 10.30.0.\(2 * $0), fw_addresses: [\"fd30::\(2 * $0)\"]}" }
            .joined(separator: "\n")
        return try Inventory.parse(yaml: """
            all:
              vars:
                firewall:
                  management: [admins]
              children:
                admins:
                  hosts:
            \(admins)
                nodes:
                  hosts:
            \(nodes)
                  vars:
                    firewall:
                      allow:
                        - {from: nodes, ports: [7000, "7100:7199"], comment: cluster traffic}
                        - {from: [nodes, 192.0.2.0/24], proto: udp, ports: [7946]}
                        - {from: any, proto: icmp}
                        - {from: admins, interface: eth0, ports: [9100]}
            """, file: "large.yml")
    }
}

/// The files a fleet render hands its sink, by host.
final class CollectedFiles: Sendable {
    private let byHost = Locked<[String: [FileBytes]]>([:])

    func add(_ host: String, _ files: [FileBytes]) { byHost.withLock { $0[host] = files } }
    func files(of host: String) -> [FileBytes] { byHost.withLock { $0[host] ?? [] } }
}
