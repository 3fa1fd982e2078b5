import ArgumentParser
import FWLab

/// `fwctl lab ...`: the inventory's fleet as network-namespace hosts on this machine.
struct LabCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "lab",
        abstract: "Build the inventory's fleet on this machine as network-namespace hosts, to try a policy for real.",
        discussion: """
            Each host becomes a network namespace on one bridge with its inventory addresses, its own sshd on its \
            ansible_port, its ansible_user with passwordless sudo, and private copies of the folders a deploy \
            writes. A controller namespace stands where the operators do; `fwctl lab run -- CMD` runs commands \
            there. No lab namespace has a route off the machine, whatever addresses the inventory holds. Needs root.
            """,
        subcommands: [LabUpCommand.self, LabDownCommand.self, LabStatusCommand.self, LabRunCommand.self, LabProbeCommand.self]
    )
}

/// `--name`, taken by every lab subcommand.
struct LabNameOption: ParsableArguments {
    @Option(help: ArgumentHelp("The lab (letters and digits, at most \(LabName.maxLength)); labs with different names stand side by side.",
                               valueName: "name"))
    var name: String = LabName.defaultName

    func validate() throws {
        do {
            _ = try LabName(name)
        } catch {
            throw ValidationError("--name: \(error)")
        }
    }

    var lab: LabName { (try? LabName(name)) ?? (try! LabName(LabName.defaultName)) }
}
