import Foundation
import Testing
import TestSupport

/// Deploy, redeploy and rollback on a host that also runs Docker and fail2ban (their chains and rules loaded
/// from an iptables-save capture) with a container namespace behind it: their rules survive, the fail2ban ban
/// still applies, and the container's published port stays reachable through the host.
@Suite(.serialized) struct CoexistenceTests {
    static let capture = RepoPaths.directory(of: #filePath).appendingPathComponent("Fixtures/docker-fail2ban.rules.v4")

    /// iptables-save of every table, without what fwctl owns (FWCTL-INPUT, its hook, the INPUT policy), the
    /// generated-by comments and counters.
    static func othersRules(_ lab: DeployLab, _ name: String) throws -> [String] {
        let saved = try lab.inHost(name, ["iptables-save"]).stdoutText
        return saved.split(separator: "\n").map(String.init).filter { line in
            !line.hasPrefix("#") && !line.contains("FWCTL-INPUT") && !line.hasPrefix(":INPUT ")
        }.map { line in line.hasPrefix(":") ? line.split(separator: " ").prefix(2).joined(separator: " ") : line }
    }

    @Test(arguments: ["iptables", "nftables"])
    func dockerAndFail2banSurviveDeployRedeployAndRollback(target: String) throws {
        try Integration.require(DeployLab.requirements + [.command("iptables-save")])
        let lab = try DeployLab([.init(name: "dock", number: 11, target: target)])
        defer { lab.shutdown() }
        let network = lab.lab.network
        let dock = try lab.host("dock")
        let banned = try network.addHost("banned", ipv4: "\(lab.lab.subnet).77/24")
        // The container: a namespace behind the host's docker0, its port 80 published as the host's 8080.
        let container = try network.addIsolatedHost("ctr")
        try runProcess("/usr/bin/env", [NetworkLab.path, "ip", "link", "add", "docker0", "netns", dock.lab.namespace,
                                        "type", "veth", "peer", "name", "eth0", "netns", container.namespace])
        try lab.inHost("dock", ["ip", "addr", "add", "172.17.0.1/16", "dev", "docker0"])
        try lab.inHost("dock", ["ip", "link", "set", "docker0", "up"])
        try lab.inHost("dock", ["sysctl", "-q", "-w", "net.ipv4.ip_forward=1"])
        try network.check(container, ["ip", "addr", "add", "172.17.0.2/16", "dev", "eth0"])
        try network.check(container, ["ip", "link", "set", "eth0", "up"])
        try network.check(container, ["ip", "route", "add", "default", "via", "172.17.0.1"])
        try network.spawn(container, ["socat", "TCP-LISTEN:80,fork,reuseaddr", "EXEC:/bin/echo ok"])
        try network.waitForListener(container, port: 80)
        try lab.listen("dock", port: 80)
        let rules = try String(contentsOf: Self.capture, encoding: .utf8).replacingOccurrences(of: "BANNED", with: banned.ipv4!)
        try network.check(dock.lab, ["iptables-restore"], stdin: Data(rules.utf8))
        let others = try Self.othersRules(lab, "dock")
        #expect(others.contains { $0.hasPrefix("-A DOCKER ! -i docker0 -p tcp -m tcp --dport 8080 -j DNAT") })
        #expect(others.contains("-A f2b-web -s \(banned.ipv4!)/32 -j REJECT --reject-with icmp-port-unreachable"))

        func checkTraffic(_ when: String) throws {
            #expect(try lab.reaches(dock.address, port: 8080), "\(when): the container is reachable through the host")
            #expect(try lab.reaches(dock.address, port: 80), "\(when): the controller reaches the host's port 80")
            #expect(try lab.blocked(dock.address, port: 80, from: banned), "\(when): fail2ban's ban still applies")
            #expect(try Self.othersRules(lab, "dock") == others, "\(when): Docker's and fail2ban's rules are exactly as they were")
        }
        try checkTraffic("before")

        let (deployed, first) = try lab.reports("deploy", ["--all"])
        #expect(deployed.status == 0, "\(deployed.stderrText)")
        #expect(first["dock"]?.result == "deployed", "\(first["dock"]?.reason ?? "")")
        try checkTraffic("after deploy")
        if target == "iptables" {
            // fail2ban's jump stays ahead of fwctl's hook, so bans apply before fwctl's accepts.
            let input = try lab.inHost("dock", ["iptables", "-S", "INPUT"]).stdoutText.split(separator: "\n")
            let f2b = try #require(input.firstIndex { $0.contains("-j f2b-web") })
            let hook = try #require(input.firstIndex { $0 == "-A INPUT -j FWCTL-INPUT" })
            #expect(f2b < hook, "\(input)")
            #expect(input.contains("-P INPUT DROP"))
        } else {
            #expect(try !lab.inHost("dock", ["nft", "list", "table", "inet", "fwctl"]).stdoutText.contains("hook forward"))
        }

        let (again, second) = try lab.reports("deploy", ["--all"])
        #expect(again.status == 0, "\(again.stderrText)")
        #expect(second["dock"]?.result == "unchanged", "Docker's and fail2ban's rules do not count as drift")
        try checkTraffic("after redeploy")

        let (rolled, back) = try lab.reports("rollback", ["--all"])
        #expect(rolled.status == 0, "\(rolled.stderrText)")
        #expect(back["dock"]?.result == "restored", "\(back["dock"]?.reason ?? "")")
        try checkTraffic("after rollback")
        if target == "iptables" {
            #expect(try !lab.inHost("dock", ["iptables", "-S"]).stdoutText.contains("FWCTL-INPUT"), "rolled back to before fwctl")
        }
    }
}
