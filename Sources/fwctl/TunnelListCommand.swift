import ArgumentParser
import FWBase
import FWCommandLine
import FWPolicy
import Logging

/// `fwctl tunnel list`: the inventory's tunnels as fwctl resolves them, without connecting anywhere.
struct TunnelListCommand: FWCommand {
    static let configuration = CommandConfiguration(
        commandName: "list",
        abstract: "List the inventory's tunnels with their allowlists resolved to addresses (connects nowhere).",
        discussion: "Checks the tunnels lists like `fwctl check` does (every problem at once, with file and line; exit 2).")

    @OptionGroup var global: GlobalOptions
    @OptionGroup var inventoryOptions: InventoryOptions
    @OptionGroup var options: TunnelOptions

    @Flag(help: "Print the tunnels as JSON.")
    var json = false

    struct Row: Encodable {
        var name, home: String
        var work: [String]
        var service: String
        var clientPort, controlPort: Int
        var tls, proxyProtocol: Bool
        var allowlist: [String]
        var workAddresses: [String]
        var definedAt: String
    }

    func execute(log: Logger) throws {
        let selection = try TunnelSelection.load(inventoryOptions, options, log: log, connections: false)
        let rows = selection.plans.map { plan in
            Row(name: plan.name, home: plan.home, work: plan.work, service: plan.service, clientPort: Int(plan.clientPort),
                controlPort: Int(plan.controlPort), tls: plan.tls, proxyProtocol: plan.proxyProtocol,
                allowlist: plan.allowlist.map(\.description), workAddresses: plan.workAddresses.map(\.description),
                definedAt: "\(plan.origin)")
        }
        if json { return try Terminal.writeJSON(rows) }
        let header = ["TUNNEL", "HOME", "WORK", "SERVICE", "CLIENT", "CONTROL", "TLS", "ALLOW"]
        try Terminal.writeResults(DisplayEscaping.escapedKeepingLineFeeds(TextTable.render([header] + rows.map {
            [$0.name, $0.home, $0.work.joined(separator: ","), $0.service, "\($0.clientPort)", "\($0.controlPort)", $0.tls ? "yes" : "no",
             $0.allowlist.joined(separator: ",")]
        })))
    }
}
