import FWPolicy
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Which firewall a lab host has loaded, as its own netfilter shows it.
public struct LoadedFirewall: Codable, Sendable, Equatable {
    /// `none`, `iptables`, `nftables` or `ufw` (several joined with `+` when more than one is loaded).
    public var kind: String
    /// Rules: `-A` lines of iptables (v4 and v6; for ufw those of its user chains), rules of nftables tables.
    public var rules: Int
}

/// One lab host as it is now.
public struct LabHostStatus: Codable, Sendable {
    public var host: String
    public var namespace: String
    public var addresses: [String]
    public var port: Int
    public var user: String
    public var sshdPID: Int32?
    /// The sshd process is running.
    public var sshdRunning: Bool
    /// It accepts connections on the host's first address (checked from inside the host).
    public var sshdAnswering: Bool
    public var firewall: LoadedFirewall
}

/// The whole lab as it is now.
public struct LabStatus: Codable, Sendable {
    public var name: String
    public var inventory: [String]
    public var limit: String?
    public var controllerNamespace: String?
    public var controllerAddresses: [String]
    public var hosts: [LabHostStatus]
    /// Environment and files `lab run` gives commands.
    public var home: String
    public var knownHosts: String
    public var sshConfig: String
}

extension Lab {
    /// The lab's hosts, their sshd and their loaded firewall, or nil when there is no lab of that name.
    public static func status(_ lab: LabName) throws(LabError) -> LabStatus? {
        try requireRoot()
        guard let state = try LabState.load(lab) else { return nil }
        let rows = NamespaceThread.map(state.hosts, width: 8, namespace: { host in
            LabNetwork.existing([host.namespace]).isEmpty ? nil : host.namespace
        }) { host throws(LabError) -> LabHostStatus in
            let exists = !LabNetwork.existing([host.namespace]).isEmpty
            let running = host.sshdPID.map { LabHostFiles.isSSHD($0, namespace: host.namespace) } ?? false
            var answering = false
            var firewall = LoadedFirewall(kind: "none", rules: 0)
            if exists {
                if let address = host.plan.networks.first {
                    answering = LabSocket.connects(from: nil, to: address, port: UInt16(host.plan.port), timeout: 0.5)
                }
                firewall = loadedFirewall()
            }
            return LabHostStatus(host: host.plan.name, namespace: host.namespace, addresses: host.plan.addresses,
                                 port: host.plan.port, user: host.plan.user ?? "root", sshdPID: host.sshdPID,
                                 sshdRunning: running, sshdAnswering: answering, firewall: firewall)
        }
        var hosts: [LabHostStatus] = []
        for row in rows {
            switch row {
            case .success(let status): hosts.append(status)
            case .failure(let error): throw error
            }
        }
        return LabStatus(name: lab.text, inventory: state.inventory, limit: state.limit,
                         controllerNamespace: state.controller?.namespace, controllerAddresses: state.controller?.addresses ?? [],
                         hosts: hosts, home: LabKeys.homeDirectory(lab), knownHosts: LabKeys.knownHosts(lab),
                         sshConfig: LabKeys.sshConfig(lab))
    }

    /// Reads the calling thread's namespace's netfilter: iptables (and ufw's chains in it) and nftables tables
    /// other than the ones iptables-nft keeps its rules in.
    static func loadedFirewall() -> LoadedFirewall {
        var kinds: [String] = []
        var rules = 0
        var iptablesRules = 0
        var ufwRules = 0
        var iptablesPolicy = false
        for program in ["iptables-save", "ip6tables-save"] {
            guard let output = try? LabProcess.run([program], timeout: 20), output.succeeded else { continue }
            for line in output.output.split(separator: "\n") {
                if line.hasPrefix("-A ufw-user-input ") { ufwRules += 1 }
                if line.hasPrefix("-A ") && !line.hasPrefix("-A ufw") { iptablesRules += 1 }
                if line.hasPrefix(":INPUT ") && !line.hasPrefix(":INPUT ACCEPT") { iptablesPolicy = true }
                if line.hasPrefix(":ufw-user-input") { kinds.append("ufw") }
            }
        }
        if kinds.contains("ufw") {
            kinds = ["ufw"]
            rules += ufwRules
        } else if iptablesRules > 0 || iptablesPolicy {
            kinds.append("iptables")
            rules += iptablesRules
        }
        if let output = try? LabProcess.run(["nft", "-j", "list", "ruleset"], timeout: 20), output.succeeded,
           let json = try? JSONSerialization.jsonObject(with: Data(output.output.utf8)) as? [String: Any],
           let items = json["nftables"] as? [[String: Any]] {
            let iptablesTables: Set<String> = ["filter", "nat", "mangle", "raw", "security"]
            var ownTables = Set<String>()
            var count = 0
            for item in items {
                if let table = item["table"] as? [String: Any], let family = table["family"] as? String, let name = table["name"] as? String,
                   !((family == "ip" || family == "ip6") && iptablesTables.contains(name)) {
                    ownTables.insert("\(family) \(name)")
                }
                if let rule = item["rule"] as? [String: Any], let family = rule["family"] as? String, let table = rule["table"] as? String,
                   ownTables.contains("\(family) \(table)") {
                    count += 1
                }
            }
            if !ownTables.isEmpty {
                kinds.append("nftables")
                rules += count
            }
        }
        return LoadedFirewall(kind: kinds.isEmpty ? "none" : kinds.joined(separator: "+"), rules: rules)
    }
}
