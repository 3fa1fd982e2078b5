import Foundation
import Testing
import TestSupport

/// One host's line of `fwctl deploy --json`.
struct Report: Decodable {
    var host: String
    var result: String
    var reason: String?
    var detail: String?
    var generation: Int?
    var restoredGeneration: Int?
    var diff: String?
    var timer: String?
    var iptablesBackend: String?
    var steps: [String: Double]
}

/// A deploy test's lab: SSHHostLab hosts of the given targets, an inventory for them, and helpers to run fwctl
/// and look inside the hosts.
final class DeployLab: @unchecked Sendable {
    static let requirements: [Integration.Requirement] = [
        .networkNamespaces, .command("sshd"), .command("ssh-keygen"), .command("unshare"), .command("iptables-restore"),
        .command("nft"), .command("ufw"), .command("socat"),
    ]

    struct HostSpec {
        var name: String
        var number: Int
        var target: String
        var sshd = true
        /// Programs in /usr/sbin the host does not have.
        var hiding: [String] = []
        /// Extra YAML for the host's firewall map (after `target:`).
        var firewall = ""
        /// Who may connect over SSH (fwctl appends management lists of groups and host, so it is set per host).
        var management = "[admin]"
    }

    let lab: SSHHostLab
    let inventoryPath: String

    init(_ specs: [HostSpec], allow: String = "[{from: any, ports: [80], comment: public web}]") throws {
        lab = try SSHHostLab()
        do {
            for spec in specs { try lab.addHost(spec.name, number: spec.number, sshd: spec.sshd, hiding: spec.hiding) }
            inventoryPath = lab.folder.path("inventory.yml")
            try Self.inventory(lab, specs, allow: allow).write(toFile: inventoryPath, atomically: true, encoding: .utf8)
        } catch {
            lab.shutdown()
            throw error
        }
    }

    static func inventory(_ lab: SSHHostLab, _ specs: [HostSpec], allow: String) -> String {
        var text = lab.inventoryHeader + """

                managed:
                  vars:
                    firewall:
                      default: drop
                      allow: \(allow)
                  hosts:

            """
        for spec in specs {
            let extra = spec.firewall.isEmpty ? "" : ", " + spec.firewall
            text += "        \(spec.name): {ansible_host: \(lab.subnet).\(spec.number), firewall: {target: \(spec.target), management: \(spec.management)\(extra)}}\n"
        }
        return text
    }

    func shutdown() { lab.shutdown() }

    var connectionOptions: [String] {
        ["-i", inventoryPath, "--known-hosts", lab.knownHosts, "--templates", RepoPaths.root.appendingPathComponent("templates").path]
    }

    /// Runs `fwctl SUBCOMMAND <options> ARGS`.
    func fwctl(_ subcommand: String, _ arguments: [String], timeout: TimeInterval = 180) throws -> ProcessResult {
        try lab.fwctl([subcommand] + connectionOptions + arguments, timeout: timeout)
    }

    /// `fwctl SUBCOMMAND --json ...`, decoded.
    func reports(_ subcommand: String, _ arguments: [String], timeout: TimeInterval = 180) throws -> (ProcessResult, [String: Report]) {
        let result = try fwctl(subcommand, arguments + ["--json"], timeout: timeout)
        let decoded = try JSONDecoder().decode([Report].self, from: result.stdout)
        return (result, Dictionary(uniqueKeysWithValues: decoded.map { ($0.host, $0) }))
    }

    func host(_ name: String) throws -> SSHHostLab.SSHHost { try #require(lab.host(name)) }

    /// Runs a command inside the host's network namespace (not its mount namespace: netfilter only).
    @discardableResult
    func inHost(_ name: String, _ arguments: [String]) throws -> ProcessResult {
        try lab.network.check(try host(name).lab, arguments)
    }

    /// What a host's owned netfilter state looks like, for before/after comparisons.
    func liveRules(_ name: String, target: String) throws -> String {
        switch target {
        case "nftables": return try inHost(name, ["nft", "list", "ruleset"]).stdoutText
        default:
            // -S lists the built-in chains' policies even before anything created the table.
            let v4 = try inHost(name, ["iptables", "-S"]).stdoutText
            let v6 = try inHost(name, ["ip6tables", "-S"]).stdoutText
            return v4 + v6
        }
    }

    /// The host's fwctl state folder, seen through its /var/lib overlay.
    func state(_ name: String) throws -> String { try host(name).varLib + "/fwctl" }

    /// Cookies of revert timers still armed on a host.
    func pendingCookies(_ name: String) throws -> [String] {
        let folder = try state(name) + "/pending"
        return ((try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? []).filter { !$0.contains(".") }
    }

    func generations(_ name: String) throws -> [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: try state(name) + "/backups")) ?? []).filter { !$0.hasPrefix(".") }.sorted()
    }

    /// Starts a listener on `port` in the host that answers "ok".
    func listen(_ name: String, port: Int) throws {
        let lab = try host(name).lab
        try self.lab.network.spawn(lab, ["socat", "TCP-LISTEN:\(port),fork,reuseaddr", "EXEC:/bin/echo ok"])
        try self.lab.network.waitForListener(lab, port: port)
    }

    /// One TCP connection attempt from the controller (or another lab host) to `address:port`; true when it
    /// answered.
    func connects(to address: String, port: Int, from client: NetworkLab.Host? = nil, timeout: Int = 2) throws -> Bool {
        let result = try lab.network.run(client ?? lab.controller,
                                         ["socat", "-T", "\(timeout + 1)", "-u", "TCP4:\(address):\(port),connect-timeout=\(timeout)", "STDOUT"],
                                         timeout: 20)
        return result.status == 0 && result.stdoutText.hasPrefix("ok")
    }

    /// True when a connection gets through, trying up to three times (a loaded machine can be slow to answer).
    func reaches(_ address: String, port: Int, from client: NetworkLab.Host? = nil) throws -> Bool {
        for _ in 0..<3 where try connects(to: address, port: port, from: client, timeout: 3) { return true }
        return false
    }

    /// True when a connection does not get through within 2 s.
    func blocked(_ address: String, port: Int, from client: NetworkLab.Host? = nil) throws -> Bool {
        try !connects(to: address, port: port, from: client)
    }
}
