import FWPolicy
import FWSSH
import Testing
@testable import FWDeploy

/// A run deploys the jump hosts of the selection before the hosts behind them, outermost first.
@Suite struct JumpOrderTests {
    static func job(_ name: String, _ address: String, port: Int = 22, jumps: [SSHTarget] = []) -> HostJob {
        HostJob(target: SSHTarget(name: name, address: address, port: port, user: "ops", jumps: jumps),
                firewallTarget: .iptables, files: [], hasSets: false)
    }

    @Test func jumpHostsRunFirstOutermostFirst() {
        let outer = SSHTarget(name: "outer", address: "192.0.2.1", port: 2222, user: "ops")
        let bastion = SSHTarget(name: "bastion", address: "192.0.2.2", port: 2222, user: "ops")
        let jobs = [
            Self.job("web1", "192.0.2.10", jumps: [outer, bastion]),
            Self.job("bastion", "192.0.2.2", port: 2222, jumps: [outer]),
            Self.job("plain", "192.0.2.11"),
            Self.job("outer", "192.0.2.1", port: 2222),
            Self.job("web2", "192.0.2.12", jumps: [bastion]),
        ]
        let waves = FleetDeployer.jumpHostsFirst(Array(jobs.indices), of: jobs)
        #expect(waves.map { $0.map { jobs[$0].target.name } } == [["outer"], ["bastion"], ["web1", "plain", "web2"]])
    }

    @Test func aJumpHostOutsideTheSelectionChangesNothing() {
        let bastion = SSHTarget(name: "bastion", address: "192.0.2.2", port: 2222, user: "ops")
        let jobs = [Self.job("web1", "192.0.2.10", jumps: [bastion]), Self.job("web2", "192.0.2.12", jumps: [bastion])]
        #expect(FleetDeployer.jumpHostsFirst([0, 1], of: jobs) == [[0, 1]])
        // Within a batch only its own hosts are ordered; the same address on another port is another endpoint.
        let other = Self.job("bastion-ssh", "192.0.2.2", port: 22)
        #expect(FleetDeployer.jumpHostsFirst([0, 1], of: jobs + [other]) == [[0, 1]])
        #expect(FleetDeployer.jumpHostsFirst([2, 0], of: jobs + [other]) == [[2, 0]])
    }
}
