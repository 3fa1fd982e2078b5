import ArgumentParser
import FWInventory
import Foundation
import Logging

/// Where the inventory is and which of its hosts to act on: the options of every subcommand that reads it
/// (inventory, render, check, ping).
struct InventoryOptions: ParsableArguments {
    @Option(
        name: [.customShort("i"), .long],
        help: ArgumentHelp(
            "An Ansible inventory: an INI, YAML or JSON file, an executable inventory script, a directory of them, "
                + "or a comma-separated host list ('h1,h2,'). Repeat to combine several. Default: $FWCTL_INVENTORY.",
            valueName: "path"))
    var inventory: [String] = []

    @Option(
        help: ArgumentHelp(
            "Only the hosts this Ansible host pattern selects: names, groups, wildcards, 'web:db', 'web:&prod', "
                + "'all:!db1', '~regex', @FILE. A pattern that matches nothing is an error.",
            valueName: "pattern"))
    var limit: String?

    /// The inventory sources: `-i` options, else `$FWCTL_INVENTORY`.
    var sources: [String] {
        if !inventory.isEmpty { return inventory }
        if let fromEnvironment = ProcessInfo.processInfo.environment["FWCTL_INVENTORY"], !fromEnvironment.isEmpty {
            return [fromEnvironment]
        }
        return []
    }

    func validate() throws {
        if sources.isEmpty {
            throw ValidationError("no inventory given: pass -i PATH (or set FWCTL_INVENTORY)")
        }
    }

    /// Loads the inventory, logging its warnings.
    func load(log: Logger) throws -> Inventory {
        let inventory = try Inventory.load(sources)
        for warning in inventory.warnings { log.warning("\(warning)") }
        log.debug("inventory loaded", metadata: ["hosts": "\(inventory.hosts.count)", "groups": "\(inventory.groups.count)"])
        return inventory
    }

    /// The hosts `--limit` selects (all hosts without it), in inventory order.
    func selectedHosts(in inventory: Inventory) throws -> [InventoryHost] {
        guard let limit else { return inventory.hosts }
        return try inventory.select(limit)
    }

    /// Loads the inventory and applies `--limit`.
    func loadSelected(log: Logger) throws -> (inventory: Inventory, hosts: [InventoryHost]) {
        let inventory = try load(log: log)
        return (inventory, try selectedHosts(in: inventory))
    }
}
