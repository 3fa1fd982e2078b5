import ArgumentParser
import FWCommandLine
import FWPolicy
import Foundation
import Logging

/// `fwctl render`: the firewall policy in the inventory, rendered to each host's rule files.
struct RenderCommand: FWCommand {
    static let configuration = CommandConfiguration(
        commandName: "render",
        abstract: "Render each host's firewall files from the policy in the inventory.",
        discussion: """
            Writes DIR/<host>/ for every selected host with a firewall var: rules.v4, rules.v6 (and ipsets) for \
            iptables; user.rules, user6.rules and ufw-defaults for ufw; fwctl.nft for nftables. Nothing is \
            written unless every host compiles and renders: on any error the output folder is left as it was. \
            Each host folder is replaced in one atomic step.
            """)

    @OptionGroup var global: GlobalOptions
    @OptionGroup var inventoryOptions: InventoryOptions
    @OptionGroup var policyOptions: PolicyOptions

    @Option(name: .shortAndLong, help: ArgumentHelp("The output folder.", valueName: "dir"))
    var output: String = "out"

    @Flag(help: "Print the summary as JSON.")
    var json = false

    func execute(log: Logger) throws {
        let started = DispatchTime.now()
        let (inventory, selected) = try inventoryOptions.loadSelected(log: log)
        let fleet = try policyOptions.fleetRender(log: log)
        let tree = try OutputTree(root: output)
        let results = fleet.run(hosts: selected.map(\.name), inventory: inventory) { host, files in
            try tree.stage(host: host, files: files)
        }
        if let status = reportPolicyProblems(results) {
            tree.discard()
            Terminal.say("nothing written to \(output)")
            throw ExitCode(status)
        }
        try tree.commit()
        let summary = RenderSummary(results: results, outputDirectory: output)
        try Terminal.writeResults(json ? try summary.json() : Array(summary.table().utf8))
        let seconds = Double(DispatchTime.now().uptimeNanoseconds - started.uptimeNanoseconds) / 1e9
        log.info("rendered \(summary.rendered.count) hosts to \(output)/ in \(String(format: "%.2f", seconds)) s")
    }
}
