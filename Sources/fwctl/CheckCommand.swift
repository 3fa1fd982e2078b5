import ArgumentParser
import FWCommandLine
import FWPolicy
import Foundation
import Logging

/// `fwctl check`: everything render checks, without writing anything.
struct CheckCommand: FWCommand {
    static let configuration = CommandConfiguration(
        commandName: "check",
        abstract: "Check the firewall policy without writing anything.",
        discussion: """
            Compiles and renders every selected host in memory: references to unknown groups or hosts, invalid \
            addresses, ports or names, sources that resolve to nothing, template errors, and the anti-lockout \
            check (a host whose rules would refuse SSH from every management source). Exits 0 when all is well, \
            2 when the policy is invalid, 1 when it is valid but would lock you out.
            """)

    @OptionGroup var global: GlobalOptions
    @OptionGroup var inventoryOptions: InventoryOptions
    @OptionGroup var policyOptions: PolicyOptions

    @Flag(help: "Print the result per host as JSON.")
    var json = false

    func execute(log: Logger) throws {
        let (inventory, selected) = try inventoryOptions.loadSelected(log: log)
        let fleet = try policyOptions.fleetRender(log: log)
        let results = fleet.run(hosts: selected.map(\.name), inventory: inventory)
        let summary = RenderSummary(results: results, outputDirectory: nil)
        try Terminal.writeResults(json ? try summary.json() : Array(summary.table().utf8))
        if let status = reportPolicyProblems(results) { throw ExitCode(status) }
    }
}
