import FWBase
import FWInventory
import FWPolicy
import FWSSH
import Foundation
import Synchronization

extension SSHTarget {
    /// A host's inventory connection vars (ansible_host, ansible_port, ansible_user, ansible_ssh_private_key_file,
    /// the jump hosts of its ssh arguments, ansible_become...) as a target. Without ansible_user, the local user
    /// name, as in Ansible and OpenSSH; a jump host's user likewise (ssh -J does not pass the inner host's user on).
    public init(_ connection: Connection) {
        let jumps = connection.jumpHosts.map { SSHTarget($0.connection) }
        let become = connection.become.map { Become(user: $0.user, password: $0.password.map { SecretText($0.text) }) }
        self.init(name: connection.name, address: connection.address, port: connection.effectivePort,
                  user: connection.user, identityFiles: connection.privateKeyFile.map { [$0] } ?? [],
                  jumps: jumps, become: become)
    }
}

/// Step 1 of a deploy for the whole selection: render every host with the same code as `fwctl render` and turn
/// each managed host into a job. Nothing is sent anywhere unless every selected host renders and passes the
/// checks (lockout included): the caller stops on any `problems`.
public struct DeployPlan: Sendable {
    public var jobs: [HostJob]
    public var renderResults: [FleetRender.HostRenderResult]
    /// Problems outside the policy (a connection var, the state folder var).
    public var problems: [String]

    public static func make(hosts: [String], inventory: Inventory, fleet: FleetRender) -> DeployPlan {
        let collected = RenderedFiles()
        let results = fleet.run(hosts: hosts, inventory: inventory) { host, files in
            collected.set(host, files)
        }
        var jobs: [HostJob] = []
        var problems: [String] = []
        for result in results {
            guard case .rendered(let firewall, _) = result.outcome, let vars = inventory.vars(of: result.host) else { continue }
            do {
                let target = SSHTarget(try inventory.connection(from: vars))
                // The on-host scripts run as root: a root login, or become to root (HostShell runs them through it).
                if let become = target.become, become.user != "root" {
                    throw DeployError("host '\(result.host)': ansible_become_user is \(become.user.debugDescription); fwctl deploys as root (netfilter needs it): set ansible_become_user: root or leave it out")
                }
                var state = HostJob.defaultStateDirectory
                if let value = vars["fwctl_state_dir"] {
                    guard let text = value.stringValue else {
                        throw DeployError("fwctl_state_dir of host '\(result.host)' must be a string, not \(value)")
                    }
                    do { try HostScripts.checkStateDirectory(text) } catch {
                        throw DeployError("host '\(result.host)': \(error)")
                    }
                    state = text
                }
                let files = collected.files(of: result.host)
                jobs.append(HostJob(target: target, firewallTarget: firewall.target, files: files,
                                    hasSets: !firewall.sets.isEmpty, stateDirectory: state))
            } catch {
                problems.append("\(error)")
            }
        }
        return DeployPlan(jobs: jobs, renderResults: results, problems: problems)
    }
}

/// The files a fleet render hands its sink, by host (the sink runs on many threads).
final class RenderedFiles: Sendable {
    private let byHost = Mutex<[String: [FileBytes]]>([:])
    func set(_ host: String, _ files: [FileBytes]) { byHost.withLock { $0[host] = files } }
    func files(of host: String) -> [FileBytes] { byHost.withLock { $0[host] ?? [] } }
}
