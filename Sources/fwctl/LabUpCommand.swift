import ArgumentParser
import Logging
import FWCommandLine
import FWLab
import Foundation

/// `fwctl lab up`: builds the lab, or makes a lab that is up match the inventory.
struct LabUpCommand: FWCommand {
    static let configuration = CommandConfiguration(
        commandName: "up",
        abstract: "Bring up the selected hosts as a lab, or make a running lab match the inventory.",
        discussion: """
            Per host: a network namespace with the addresses of ansible_host and fw_addresses, its sshd on \
            ansible_port with a new host key, ansible_user (passwordless sudo) in the host's private /etc, and \
            private copies of /etc, /var, /usr/local, /home, /root, /opt and /srv (a deploy writes only that \
            host's copy). Plus a controller namespace at --controller, by default a free address in a \
            management network of the policy, and a client key and known_hosts for `fwctl lab run`.

            On a lab that is up, hosts that left the inventory are removed and new ones added; hosts that did not \
            change keep running. State is kept in /run/fwctl/lab/NAME. Needs root.
            """)

    @OptionGroup var global: GlobalOptions
    @OptionGroup var inventoryOptions: InventoryOptions
    @OptionGroup var labName: LabNameOption

    @Option(help: ArgumentHelp("The controller's address (repeat for IPv4 and IPv6). Default: a free address in a management network of the policy.",
                               valueName: "address"))
    var controller: [String] = []

    func execute(log: Logger) throws {
        let (inventory, hosts) = try inventoryOptions.loadSelected(log: log)
        let plan = try LabPlan.make(inventory: inventory, hosts: hosts, controller: controller)
        let lab = labName.lab
        let sources = inventoryOptions.sources.map(Self.absolute)
        let started = Date()
        let report = try Lab.up(lab, plan: plan, inventory: sources, limit: inventoryOptions.limit) { step in
            if !global.quiet { log.info("lab \(lab): \(step)") }
        }
        let seconds = String(format: "%.1f", Date().timeIntervalSince(started))
        var text = "lab \(lab): \(plan.hosts.count) host\(plan.hosts.count == 1 ? "" : "s") up in \(seconds) s "
            + "(\(report.added.count) added, \(report.removed.count) removed, \(report.kept.count) unchanged); "
            + "controller \(report.controllerAddresses.joined(separator: ", ")) in namespace \(report.controllerNamespace)\n"
        let nameOption = lab.text == LabName.defaultName ? "" : " --name \(lab)"
        let example = plan.hosts.first?.name ?? "HOST"
        let home = "/run/fwctl/lab/\(lab)/home"
        let inventoryOption = sources.map { " -i \($0)" }.joined()
        text += """
            Reach the lab from its controller:
              fwctl lab run\(nameOption) -- fwctl ping
              fwctl lab run\(nameOption) -- ssh \(example)
            The same by hand (the controller namespace; fwctl reads ~/.ssh from HOME, ssh takes -F):
              ip netns exec \(report.controllerNamespace) env HOME=\(home) fwctl ping\(inventoryOption)
              ip netns exec \(report.controllerNamespace) ssh -F \(home)/.ssh/config \(example)

            """
        try Terminal.writeResults(text)
    }

    /// Inventory paths as absolute paths, so `lab run` finds them from any folder; host lists ('a,b,') stay.
    static func absolute(_ source: String) -> String {
        guard FileManager.default.fileExists(atPath: source), !source.hasPrefix("/") else { return source }
        return URL(fileURLWithPath: source).standardizedFileURL.path
    }
}
