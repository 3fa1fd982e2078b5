import ArgumentParser
import FWCommandLine
import FWLab
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// `fwctl lab run -- CMD...`: a command in the lab's controller namespace.
struct LabRunCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Run a command in the lab's controller namespace, set up to reach the lab hosts.",
        discussion: """
            The command runs where the operators stand (the controller's address; no route off the machine) with \
            the lab's client key, known_hosts and ssh_config as ~/.ssh, no ssh-agent, and FWCTL_INVENTORY set to \
            the lab's inventory, so `fwctl ping`, `ssh HOST` and the like work with no options. Its exit status is \
            the command's. Example: fwctl lab run -- fwctl ping. Needs root.
            """)

    @OptionGroup var labName: LabNameOption

    @Argument(parsing: .captureForPassthrough, help: ArgumentHelp("The command and its arguments, after --.", valueName: "command"))
    var command: [String] = []

    func run() throws {
        try reportingErrors {
            let words = command.first == "--" ? Array(command.dropFirst()) : command
            let invocation = try LabRunInvocation.make(labName.lab, command: words, environment: ProcessInfo.processInfo.environment)
            let argv: [UnsafeMutablePointer<CChar>?] = invocation.arguments.map { strdup($0) } + [nil]
            let envp: [UnsafeMutablePointer<CChar>?] = invocation.environment.map { strdup("\($0.key)=\($0.value)") } + [nil]
            execve(invocation.executable, argv, envp)
            throw LabError("cannot run \(invocation.executable): \(String(cString: strerror(errno)))")
        }
    }
}
