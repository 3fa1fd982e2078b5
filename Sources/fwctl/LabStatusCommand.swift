import ArgumentParser
import Logging
import FWCommandLine
import FWLab
import Foundation

/// `fwctl lab status`: the lab's hosts as they are now.
struct LabStatusCommand: FWCommand {
    static let configuration = CommandConfiguration(
        commandName: "status",
        abstract: "Show a lab's hosts: addresses, whether sshd is running and answering, which firewall is loaded.",
        discussion: "Exits 1 when there is no lab of that name, or when a host's sshd is not answering. Needs root.")

    @OptionGroup var global: GlobalOptions
    @OptionGroup var labName: LabNameOption

    @Flag(help: "Print the status as JSON.")
    var json = false

    func execute(log: Logger) throws {
        let lab = labName.lab
        guard let status = try Lab.status(lab) else {
            throw LabError("there is no lab named \(lab)", hint: "start it with `fwctl lab up -i INVENTORY`")
        }
        if json {
            try Terminal.writeJSON(status)
        } else {
            var rows = [["HOST", "ADDRESSES", "PORT", "USER", "SSHD", "FIREWALL", "RULES"]]
            for host in status.hosts {
                let sshd = host.sshdAnswering ? "answering" : host.sshdRunning ? "not answering" : "not running"
                rows.append([host.host, host.addresses.joined(separator: ","), "\(host.port)", host.user, sshd,
                             host.firewall.kind, "\(host.firewall.rules)"])
            }
            let colour = Terminal.stdoutSupportsColour
            var text = "lab \(status.name): \(status.hosts.count) hosts, controller \(status.controllerAddresses.joined(separator: ", "))"
                + " in \(status.controllerNamespace ?? "-")\n"
            text += TextTable.render(rows) { row, column, cell in
                guard row > 0, column == 4 else { return cell }
                return Terminal.paint(cell, status.hosts[row - 1].sshdAnswering ? .green : .red, enabled: colour)
            }
            try Terminal.writeResults(text)
        }
        let down = status.hosts.filter { !$0.sshdAnswering }
        if !down.isEmpty {
            throw LabError("\(down.count) host\(down.count == 1 ? "'s sshd is" : "s' sshd are") not answering: \(down.map(\.host).joined(separator: ", "))",
                           hint: "`fwctl lab up` again restarts them")
        }
    }
}
