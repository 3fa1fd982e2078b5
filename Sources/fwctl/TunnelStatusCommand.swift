import ArgumentParser
import FWBase
import FWCommandLine
import FWSSH
import FWTunnelDeploy
import Foundation
import Logging

/// `fwctl tunnel status`: each end's status socket, read over SSH with the binary's own `--status`.
struct TunnelStatusCommand: FWCommand {
    static let configuration = CommandConfiguration(
        commandName: "status",
        abstract: "Show each tunnel's ends: up, connected agents, pool, counters, last error.",
        discussion: """
            Reads every end's status socket on its host over SSH (`fwtunnel-home --status`, `fwtunnel-work --status`: \
            nothing else is needed on the host). AGENTS is the agents home has a command connection from (on a work \
            host: whether it is connected), POOL the idle authenticated data connections, ACTIVE the client \
            connections now, ACCEPTED/REFUSED the clients accepted and refused by the allowlist (work: sessions and \
            failed connections to the service), FAILURES failed agent authentications and handshakes (work: failed \
            command connections). --json prints each end's whole status document. Exits 0 when every end answered.
            """)

    @OptionGroup var global: GlobalOptions
    @OptionGroup var inventoryOptions: InventoryOptions
    @OptionGroup var options: TunnelOptions
    @OptionGroup var ssh: SSHConnectionOptions

    @Flag(help: "Print each end's status document as JSON.")
    var json = false

    func execute(log: Logger) throws {
        let (selection, installer, jumps) = try TunnelSelection.prepare(inventoryOptions, options, ssh: ssh, log: log)
        defer { jumps.close() }
        let ends = selection.plans.flatMap { installer.status($0, targets: selection.targets, jumps: jumps) }
        if json {
            let documents: [[String: Any]] = ends.map { end in
                var item: [String: Any] = ["tunnel": end.tunnel, "host": end.host, "role": end.role.rawValue, "up": end.status != nil]
                if let status = end.status, let document = try? JSONSerialization.jsonObject(with: status.json) { item["status"] = document }
                if let error = end.error { item["error"] = error }
                return item
            }
            var bytes = [UInt8](try JSONSerialization.data(withJSONObject: documents, options: [.prettyPrinted, .sortedKeys]))
            bytes.append(0x0A)
            try Terminal.writeResults(bytes)
        } else {
            let header = ["TUNNEL", "HOST", "ROLE", "UP", "AGENTS", "POOL", "ACTIVE", "ACCEPTED", "REFUSED", "FAILURES", "LAST ERROR"]
            let rows = ends.map { end -> [String] in
                guard let status = end.status else {
                    return [end.tunnel, end.host, end.role.rawValue, "no", "-", "-", "-", "-", "-", "-", end.error ?? "-"]
                }
                let agents = end.role == .home ? (status.connectedAgents.isEmpty ? "none" : status.connectedAgents.joined(separator: ","))
                    : (status.connectedAgents.isEmpty ? "disconnected" : "connected")
                return [end.tunnel, end.host, end.role.rawValue, "yes", agents, "\(status.idleDataConnections)", "\(status.active)",
                        "\(status.accepted)", "\(status.refused)", "\(status.failures)", status.lastError ?? "-"]
            }
            try Terminal.writeResults(DisplayEscaping.escapedKeepingLineFeeds(TextTable.render([header] + rows)))
        }
        let down = ends.filter { $0.status == nil }
        for end in down { log.error("\(end.tunnel): \(end.host) (\(end.role.rawValue)): \(end.error ?? "no status")") }
        if !down.isEmpty { throw HostsFailed(failed: down.count, total: ends.count) }
    }
}
