import ArgumentParser
import FWCommandLine
import FWInventory
import Logging

/// `fwctl inventory`: the inventory as fwctl reads it, in the formats of `ansible-inventory`.
struct InventoryCommand: FWCommand {
    static let configuration = CommandConfiguration(
        commandName: "inventory",
        abstract: "Show the inventory as fwctl reads it, as ansible-inventory shows it.",
        discussion: """
            --list prints the JSON of `ansible-inventory --list` (groups, and every host's merged vars under \
            _meta.hostvars), --graph the group tree, --host one host's merged vars. Unlike ansible-inventory, \
            --graph honours --limit; as in it, --host does not.
            """)

    @OptionGroup var global: GlobalOptions
    @OptionGroup var inventoryOptions: InventoryOptions

    @Flag(help: "Print the groups and every host's merged vars as JSON.")
    var list = false

    @Flag(help: "Print the tree of groups and hosts (below GROUP, default all).")
    var graph = false

    @Argument(help: ArgumentHelp("The group to start --graph at.", valueName: "group"))
    var group: String?

    @Option(help: ArgumentHelp("Print the merged vars of this host as JSON.", valueName: "name"))
    var host: String?

    func validate() throws {
        let chosen = [list, graph, host != nil].filter { $0 }.count
        if chosen != 1 { throw ValidationError("choose one of --list, --graph [GROUP] and --host NAME") }
        if group != nil && !graph { throw ValidationError("a GROUP argument goes with --graph") }
    }

    func execute(log: Logger) throws {
        let (inventory, selected) = try inventoryOptions.loadSelected(log: log)
        let output: String
        if list {
            try Terminal.writeResults(inventory.listJSONBytes(hosts: selected))
            return
        } else if graph {
            output = try inventory.graph(from: group ?? "all", hosts: inventoryOptions.limit == nil ? nil : selected)
        } else {
            let name = host ?? ""
            // As in ansible-inventory, --host looks in the whole inventory: --limit does not apply to it.
            let matches = try inventory.select(name)
            guard matches.count == 1 else {
                throw InventoryError("--host '\(name)' matches \(matches.count) hosts", hint: "give the name of one host")
            }
            output = try inventory.hostJSON(matches[0].name)
        }
        try Terminal.writeResults(output)
    }
}
