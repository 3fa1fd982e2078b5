import FWSSH
import Foundation
import Synchronization
import Testing
import TestSupport

/// Many hosts at once. sshd listens on at most 16 sockets (MAX_LISTEN_SOCKS), so 64 distinct targets come from four
/// sshds with sixteen loopback addresses each.
@Suite struct HostRunnerTests {
    @Test func sixtyFourHostsInParallelWithResultsInOrder() throws {
        try Integration.require(.root, .command("sshd"), .command("ssh-keygen"))
        var servers: [SSHDFixture] = []
        defer { servers.forEach { $0.stop() } }
        for group in 0..<4 {
            servers.append(try SSHDFixture(listen: (1...16).map { "127.0.\(group + 1).\($0)" }, hostKeys: [.ed25519]))
        }
        let hosts = servers.flatMap { server in server.listenAddresses.map { (server, $0) } }
        #expect(hosts.count == 64)
        let knownHosts = try servers[0].writeKnownHosts(try hosts.map { try $0.0.knownHostsLine(.ed25519, address: $0.1) })
        let targets = try hosts.enumerated().map { try $1.0.target($1.1, name: "host\($0)") }
        let events = Mutex<[String]>([])
        let results = HostRunner(parallelism: 32).run(targets, options: servers[0].options(knownHosts: knownHosts), progress: { progress in
            events.withLock { $0.append("\(progress.finishedCount)/\(progress.total)") }
        }) { session in
            // The server reports which of its addresses and ports this connection reached.
            try session.exec("echo $SSH_CONNECTION").stdoutText
        }
        #expect(results.count == 64)
        for (index, result) in results.enumerated() {
            #expect(result.index == index)
            #expect(result.target.name == "host\(index)")
            let connection = try #require(result.outcome.value, "host\(index): \(String(describing: result.outcome.error))")
            let fields = connection.split(whereSeparator: { $0 == " " || $0 == "\n" })
            #expect(fields[2] == Substring(hosts[index].1))
            #expect(fields[3] == Substring(String(hosts[index].0.port)))
        }
        // Progress came once per host, counting up.
        #expect(events.withLock { $0 } == (1...64).map { "\($0)/64" })
    }

    @Test func oneHostFailingDoesNotAffectTheOthers() throws {
        try Integration.require(.root, .command("sshd"), .command("ssh-keygen"))
        let addresses = (1...8).map { "127.0.0.\($0 + 1)" }
        let sshd = try SSHDFixture(listen: addresses, hostKeys: [.ed25519])
        defer { sshd.stop() }
        let silent = try SilentServer()
        defer { silent.close() }
        let closedPort = try SSHDFixture.freePort()
        // Known: all but 127.0.0.4, so that one is an unknown host.
        let knownHosts = try sshd.writeKnownHosts(try addresses.filter { $0 != "127.0.0.4" }.map { try sshd.knownHostsLine(.ed25519, address: $0) })
        var targets = try addresses.map { try sshd.target($0) }
        targets.insert(try sshd.target("127.0.0.1", name: "refused", port: closedPort), at: 1)
        targets.insert(try sshd.target("127.0.0.1", name: "silent", port: silent.port), at: 5)
        var options = sshd.options(knownHosts: knownHosts)
        options.connectTimeout = .seconds(2)
        let results = HostRunner(parallelism: 4).run(targets, options: options) { session in
            try session.exec("echo ok").stdoutText
        }
        #expect(results.map(\.target.name) == targets.map(\.name))
        for result in results {
            switch result.target.name {
            case "refused":
                #expect((result.outcome.error as? SSHError)?.step == .connect)
            case "silent":
                guard case .timedOut(let error) = result.outcome else { Issue.record("silent: \(result.outcome)"); continue }
                #expect(error.during == .handshake)
            case "127.0.0.4":
                #expect((result.outcome.error as? SSHError)?.hostKeyProblem == .unknown)
            default:
                #expect(result.outcome.value == "ok\n", "\(result.target.name): \(String(describing: result.outcome.error))")
            }
        }
    }

    @Test func callerErrorsAndParallelismBound() throws {
        // No network: the runner itself. At most `parallelism` operations run at once, all on non-pool threads.
        struct Boom: Error {}
        let running = Mutex((now: 0, peak: 0))
        let targets = (0..<40).map { SSHTarget(name: "t\($0)", address: "127.0.0.1", user: "root") }
        let results = HostRunner(parallelism: 5).run(targets, hostTimeout: .seconds(5)) { target, deadline in
            running.withLock { $0.now += 1; $0.peak = max($0.peak, $0.now) }
            defer { running.withLock { $0.now -= 1 } }
            usleep(20_000)
            #expect(!deadline.hasPassed)
            if target.name == "t7" { throw Boom() }
            if target.name == "t9" { throw SSHError(.timeout, host: target.name, "slow", during: .exec) }
            return target.name.uppercased()
        }
        #expect(running.withLock { $0.peak } <= 5)
        #expect(running.withLock { $0.peak } >= 2)
        #expect(results.count == 40)
        #expect(results[0].outcome.value == "T0")
        #expect(results[7].outcome.error is Boom)
        guard case .timedOut = results[9].outcome else { Issue.record("t9 should time out"); return }
        #expect(results[39].outcome.value == "T39")
    }
}
