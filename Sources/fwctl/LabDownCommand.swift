import ArgumentParser
import Logging
import FWCommandLine
import FWLab

/// `fwctl lab down`: removes a lab.
struct LabDownCommand: FWCommand {
    static let configuration = CommandConfiguration(
        commandName: "down",
        abstract: "Remove a lab: every namespace, link, process, mount and file it made.",
        discussion: "Also after `lab up` was interrupted: the lab records each step before taking it. Needs root.")

    @OptionGroup var global: GlobalOptions
    @OptionGroup var labName: LabNameOption

    func execute(log: Logger) throws {
        let lab = labName.lab
        let report = try Lab.down(lab) { step in if !global.quiet { log.info("lab \(lab): \(step)") } }
        if report.existed {
            try Terminal.writeResults("lab \(lab) removed: \(report.hosts) host\(report.hosts == 1 ? "" : "s"), \(report.namespaces) namespace\(report.namespaces == 1 ? "" : "s")\n")
        } else {
            try Terminal.writeResults("no lab named \(lab): nothing to remove\n")
        }
    }
}
