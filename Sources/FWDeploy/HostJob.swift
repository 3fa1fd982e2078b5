import FWBase
import FWPolicy
import FWSSH

/// One host to deploy: where to connect, and what to install.
public struct HostJob: Sendable {
    public var target: SSHTarget
    public var firewallTarget: FirewallTarget
    public var files: [FileBytes]
    public var hasSets: Bool
    /// The host's state folder (`fwctl_state_dir`, default /var/lib/fwctl): staging, backups, timer, records.
    public var stateDirectory: String

    public static let defaultStateDirectory = "/var/lib/fwctl"

    public init(target: SSHTarget, firewallTarget: FirewallTarget, files: [FileBytes], hasSets: Bool,
                stateDirectory: String = HostJob.defaultStateDirectory) {
        self.target = target
        self.firewallTarget = firewallTarget
        self.files = files
        self.hasSets = hasSets
        self.stateDirectory = stateDirectory
    }
}
