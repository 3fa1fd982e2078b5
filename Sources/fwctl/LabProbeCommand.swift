import ArgumentParser
import Logging
import FWCommandLine
import FWInventory
import FWLab
import FWPolicy
import Foundation

/// `fwctl lab probe`: who can reach whom in the lab, and whether that is what the policy says.
struct LabProbeCommand: FWCommand {
    static let configuration = CommandConfiguration(
        commandName: "probe",
        abstract: "Measure who can reach whom in a lab: a TCP connect from every host and the controller to every other host.",
        discussion: """
            Every lab host and the controller connect to every port of every address of every other host, all at \
            once, each connect given --timeout seconds (one that times out is tried once more, after the others); \
            listeners on the probed ports are opened inside each host for the probe and closed after. Connects go from the source's first address of the destination's \
            family. Prints one row per source, destination and address with the open and the closed ports.

            --expect compares each connect with what the destination's compiled policy (the rules render \
            writes) admits from that source, and exits 1 naming every difference. Lab hosts receive on eth0: a \
            rule bound to another interface does not apply in the lab. Needs root.
            """)

    @OptionGroup var global: GlobalOptions
    @OptionGroup var labName: LabNameOption

    @Option(name: [.customShort("i"), .long], help: ArgumentHelp(
        "The inventory whose policy --expect compares with (repeatable). Default: the one the lab was brought up from.",
        valueName: "path"))
    var inventory: [String] = []

    @Option(help: ArgumentHelp("The TCP ports to probe, comma-separated. Default: the SSH ports and the single TCP ports the policy names (at most 16), else 22.",
                               valueName: "ports"))
    var ports: String?

    @Option(help: ArgumentHelp("Seconds a connect may take before it counts as closed (0.05-30).", valueName: "seconds"))
    var timeout: Double = 1

    @Flag(help: "Compare with what the policy allows; exit 1 on any difference.")
    var expect = false

    @Flag(help: "Print the results as JSON.")
    var json = false

    static let differencesSpelledOut = 40

    func validate() throws {
        guard (0.05...30).contains(timeout) else { throw ValidationError("--timeout must be from 0.05 to 30 seconds, not \(timeout)") }
        if let ports { _ = try Self.parsePorts(ports) }
    }

    static func parsePorts(_ text: String) throws -> [UInt16] {
        var result: [UInt16] = []
        for item in text.split(separator: ",", omittingEmptySubsequences: false) {
            guard let port = UInt16(item.trimmingCharacters(in: .whitespaces)), port > 0 else {
                throw ValidationError("--ports: \(String(item).debugDescription) is not a port from 1 to 65535")
            }
            if !result.contains(port) { result.append(port) }
        }
        guard (1...64).contains(result.count) else { throw ValidationError("--ports: give 1 to 64 ports") }
        return result
    }

    func execute(log: Logger) throws {
        let lab = labName.lab
        let nodes = try Lab.probeNodes(lab)
        let sources = inventory.isEmpty ? (try Lab.inventorySources(lab) ?? []) : inventory
        var firewalls: [String: HostFirewall?] = [:]
        var policyPorts: [UInt16] = []
        if expect || ports == nil, !sources.isEmpty {
            let loaded = try Inventory.load(sources)
            for warning in loaded.warnings { log.warning("\(warning)") }
            let book = AddressBook(inventory: loaded)
            let compiler = PolicyCompiler()
            var problems: [PolicyError] = []
            for node in nodes where !node.isController {
                guard book.isHost(node.name) else {
                    if expect { problems.append(PolicyError(host: node.name, message: "the lab host is not in the inventory")) }
                    continue
                }
                do throws(PolicyErrors) {
                    let firewall = try compiler.compile(host: node.name, addressBook: book)
                    firewalls[node.name] = firewall
                    if let firewall { policyPorts += Self.tcpPorts(of: firewall) }
                } catch {
                    problems += error.errors
                }
            }
            if expect, !problems.isEmpty {
                let prefix = Terminal.paint("error: ", .red, enabled: Terminal.stderrSupportsColour)
                for (problem, hosts) in PolicyErrors(problems).grouped() {
                    Terminal.writeStderr("fwctl: \(prefix)\(problem.describe(hosts: hosts))\n")
                }
                throw ExitCode(PolicyErrors(problems).includesInvalidInput ? ExitStatus.invalidInput : ExitStatus.failure)
            }
        } else if expect {
            throw ValidationError("--expect needs the inventory: pass -i PATH")
        }
        var portList = try ports.map(Self.parsePorts) ?? []
        if portList.isEmpty {
            var seen = Set<UInt16>()
            portList = Array(policyPorts.filter { seen.insert($0).inserted }.sorted().prefix(16))
            if portList.isEmpty { portList = [22] }
        }
        let started = Date()
        let outcomes = try ReachabilityProbe(ports: portList, timeout: timeout).run(nodes)
        let seconds = Date().timeIntervalSince(started)
        let expected = expect ? outcomes.map { ProbeExpectation.expectedOpen($0, firewalls: firewalls) } : nil
        let differences = expected.map { zip(outcomes, $0).filter { $0.open != $1 } } ?? []
        if !global.quiet {
            log.info("probe: \(outcomes.count) connects in \(String(format: "%.2f", seconds)) s, \(outcomes.filter(\.open).count) open, ports \(portList.map(String.init).joined(separator: ","))")
        }
        if json {
            try Terminal.writeResults(try Self.json(outcomes, expected: expected))
        } else {
            try Terminal.writeResults(Self.table(outcomes, expected: expected))
        }
        // Every difference is in the table (and the JSON); the first ones are spelled out on stderr as well.
        for (outcome, _) in differences.prefix(Self.differencesSpelledOut) {
            let measured = outcome.open ? "open" : "closed (\(outcome.reason ?? "no answer"))"
            log.error("\(outcome.from) (\(outcome.fromAddress)) -> \(outcome.to) \(outcome.address) port \(outcome.port): \(measured), the policy says \(outcome.open ? "closed" : "open")")
        }
        if differences.count > Self.differencesSpelledOut {
            log.error("... and \(differences.count - Self.differencesSpelledOut) more differences (see the table)")
        }
        if !differences.isEmpty {
            throw LabError("\(differences.count) of \(outcomes.count) connects differ from the policy")
        }
    }

    /// The ports a policy opens to TCP one by one: every SSH port and each single port of a tcp or any rule.
    static func tcpPorts(of firewall: HostFirewall) -> [UInt16] {
        var ports = [firewall.sshPort]
        for rule in firewall.rules where rule.proto == .tcp || rule.proto == .any {
            ports += rule.ports.filter(\.isSinglePort).map(\.low)
        }
        return ports
    }

    /// One row per source, destination and address: the open and the closed ports, and with --expect whether
    /// that is what the policy says.
    static func table(_ outcomes: [ProbeOutcome], expected: [Bool]?) -> String {
        var header = ["FROM", "TO", "ADDRESS", "OPEN", "CLOSED"]
        if expected != nil { header.append("POLICY") }
        var rows = [header]
        var differs: [Bool] = [false]
        var index = 0
        while index < outcomes.count {
            let first = outcomes[index]
            var end = index
            while end < outcomes.count && outcomes[end].from == first.from && outcomes[end].to == first.to && outcomes[end].address == first.address {
                end += 1
            }
            let group = outcomes[index..<end]
            let open = group.filter(\.open).map { String($0.port) }
            let closed = group.filter { !$0.open }.map { String($0.port) }
            var row = [first.from, first.to, first.address, open.isEmpty ? "-" : open.joined(separator: ","),
                       closed.isEmpty ? "-" : closed.joined(separator: ",")]
            var rowDiffers = false
            if let expected {
                let wrong = (index..<end).filter { outcomes[$0].open != expected[$0] }.map { outcomes[$0] }
                rowDiffers = !wrong.isEmpty
                row.append(wrong.isEmpty ? "as expected"
                           : "differs: " + wrong.map { "\($0.port) \($0.open ? "open" : "closed")" }.joined(separator: ", "))
            }
            rows.append(row)
            differs.append(rowDiffers)
            index = end
        }
        let colour = Terminal.stdoutSupportsColour
        return TextTable.render(rows) { row, column, cell in
            guard row > 0, column == 5 else { return cell }
            return Terminal.paint(cell, differs[row] ? .red : .green, enabled: colour)
        }
    }

    static func json(_ outcomes: [ProbeOutcome], expected: [Bool]?) throws -> [UInt8] {
        var rows = outcomes
        if let expected { for index in rows.indices { rows[index].expected = expected[index] } }
        return try Terminal.json(rows)
    }
}
