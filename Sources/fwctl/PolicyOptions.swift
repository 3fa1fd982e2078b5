import ArgumentParser
import FWCommandLine
import FWInventory
import FWPolicy
import FWTemplate
import Foundation
import Logging

extension FirewallTarget: ExpressibleByArgument {}

/// Options of the subcommands that compile the firewall policy (render, check): which templates, which target,
/// how host names become addresses.
struct PolicyOptions: ParsableArguments {
    @Option(help: ArgumentHelp(
        "Render this target for every host instead of its firewall.target (iptables, ufw or nftables).",
        valueName: "target"))
    var target: FirewallTarget?

    @Option(help: ArgumentHelp(
        "The templates folder. Default: $FWCTL_TEMPLATES, else ./templates, else the one installed beside fwctl.",
        valueName: "dir"))
    var templates: String?

    @Flag(help: "Look up ansible_host values that are DNS names (otherwise they are an error: rules need addresses).")
    var resolve = false

    /// Where the templates are: the option, the environment, the working directory, then beside the executable.
    func templatesDirectory() throws -> String { try Self.templatesDirectory(option: templates) }

    /// The templates folder for a `--templates` option (shared with the tunnel commands).
    static func templatesDirectory(option templates: String?) throws -> String {
        if let templates { return templates }
        if let fromEnvironment = ProcessInfo.processInfo.environment["FWCTL_TEMPLATES"], !fromEnvironment.isEmpty {
            return fromEnvironment
        }
        // The executable's real folder (symlinks resolved): bin/ when installed, .build/<triple>/<config>/ in the
        // repository (where .build/<config> is a symlink to it).
        let executablePath = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]
        let executable = URL(fileURLWithPath: executablePath).deletingLastPathComponent()
        let candidates = [
            URL(fileURLWithPath: FileManager.default.currentDirectoryPath).appendingPathComponent("templates"),
            executable.appendingPathComponent("../share/fwctl/templates"),
            executable.appendingPathComponent("../../../templates"),
            executable.appendingPathComponent("../../templates"),
        ]
        for candidate in candidates
        where FileManager.default.fileExists(atPath: candidate.appendingPathComponent("iptables/rules.v4.mustache").path) {
            return candidate.standardizedFileURL.path
        }
        throw ValidationError("no templates folder found: pass --templates DIR (or set FWCTL_TEMPLATES)")
    }

    /// The compiler and the loaded templates, set up as the options say.
    func fleetRender(log: Logger) throws -> FleetRender {
        let directory = try templatesDirectory()
        log.debug("templates", metadata: ["dir": "\(directory)"])
        let renderer = try FirewallRenderer(templatesDirectory: directory, generator: "fwctl \(FWCtlVersion.string)")
        return FleetRender(compiler: PolicyCompiler(forcedTarget: target), renderer: renderer,
                           resolution: resolve ? .systemResolver : .literalsOnly)
    }
}

/// Prints the warnings and then the policy problems of a run on stderr, one per line, and gives the exit status
/// the problems call for: 2 when an input is invalid, 1 when the input is valid but a check (anti-lockout) or a
/// write failed.
func reportPolicyProblems(_ results: [FleetRender.HostRenderResult]) -> Int32? {
    var problems: [PolicyError] = []
    var notes: [PolicyError] = []
    for result in results {
        if case .failed(let errors) = result.outcome { problems += errors }
        if case .rendered(let firewall, _) = result.outcome { notes += firewall.notes }
    }
    let warning = Terminal.paint("warning: ", .yellow, enabled: Terminal.stderrSupportsColour)
    for (note, hosts) in PolicyErrors(notes).grouped() {
        Terminal.writeStderr("fwctl: \(warning)\(note.describe(hosts: hosts))\n")
    }
    guard !problems.isEmpty else { return nil }
    for (problem, hosts) in PolicyErrors(problems).grouped() {
        Terminal.sayError(problem.describe(hosts: hosts))
    }
    let hosts = Set(results.filter { if case .failed = $0.outcome { true } else { false } }.map(\.host))
    Terminal.say("\(problems.count) problem\(problems.count == 1 ? "" : "s") on \(hosts.count) host\(hosts.count == 1 ? "" : "s")")
    return PolicyErrors(problems).includesInvalidInput ? ExitStatus.invalidInput : ExitStatus.failure
}
