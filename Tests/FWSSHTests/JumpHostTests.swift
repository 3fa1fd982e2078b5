import FWSSH
import Foundation
import Synchronization
import Testing
import TestSupport

/// Jump hosts for real: sshds in NetworkLab namespaces on one bridge but in different subnets, so the controller
/// namespace reaches only the first jump host, which alone reaches the inner hosts (and a second jump host, which
/// alone reaches the hosts behind it). FWSSH runs on a thread inside the controller namespace.
///
///     controller 10.91.1.1 ── jump1 10.91.1.2 | 10.91.2.2 ── inner 10.91.2.4, .10-.17 (port 22)
///                                              jump2 10.91.2.3:2222 | 10.91.3.3 ── far 10.91.3.4 (port 22)
@Suite(.serialized) struct JumpHostTests {
    final class Fleet: @unchecked Sendable {
        // @unchecked: set up once in init, read-only afterwards; shutdown() is called once by the test.
        let lab: NetworkLab
        let controller: NetworkLab.Host
        var servers: [SSHDFixture] = []
        let jump1: SSHDFixture
        let jump2: SSHDFixture
        let inner: SSHDFixture
        let far: SSHDFixture

        init() throws {
            let lab = try NetworkLab()
            self.lab = lab
            var started: [SSHDFixture] = []
            do {
                controller = try lab.addHost("ctl", ipv4: "10.91.1.1/24")
                let j1 = try lab.addHost("j1", ipv4: "10.91.1.2/24")
                try lab.check(j1, ["ip", "addr", "add", "10.91.2.2/24", "dev", "eth0"])
                let j2 = try lab.addHost("j2", ipv4: "10.91.2.3/24")
                try lab.check(j2, ["ip", "addr", "add", "10.91.3.3/24", "dev", "eth0"])
                let i = try lab.addHost("in", ipv4: "10.91.2.4/24")
                for n in 10...17 { try lab.check(i, ["ip", "addr", "add", "10.91.2.\(n)/24", "dev", "eth0"]) }
                let f = try lab.addHost("far", ipv4: "10.91.3.4/24")
                let jump1 = try SSHDFixture(listen: ["10.91.1.2"], hostKeys: [.ed25519], namespace: j1.namespace, port: 22)
                started.append(jump1)
                let jump2 = try SSHDFixture(listen: ["10.91.2.3"], hostKeys: [.ecdsa], namespace: j2.namespace, port: 2222)
                started.append(jump2)
                let inner = try SSHDFixture(listen: ["10.91.2.4"] + (10...17).map { "10.91.2.\($0)" }, hostKeys: [.ed25519Other],
                                            namespace: i.namespace, port: 22)
                started.append(inner)
                let far = try SSHDFixture(listen: ["10.91.3.4"], hostKeys: [.ed25519], namespace: f.namespace, port: 22)
                started.append(far)
                (self.jump1, self.jump2, self.inner, self.far) = (jump1, jump2, inner, far)
                servers = started
            } catch {
                started.forEach { $0.stop() }
                lab.shutdown()
                throw error
            }
        }

        func shutdown() {
            servers.forEach { $0.stop() }
            lab.shutdown()
        }

        /// known_hosts lines for every host (the inner ones under their own addresses), minus `leaving` out.
        func knownHosts(except: Set<String> = [], replacing: [String: TestKeys.HostKey] = [:]) throws -> String {
            var lines: [String] = []
            func add(_ name: String, _ fixture: SSHDFixture, _ key: TestKeys.HostKey) throws {
                guard !except.contains(name) else { return }
                let used = replacing[name] ?? key
                let host = fixture.port == 22 ? name : "[\(name)]:\(fixture.port)"
                lines.append("\(host) \(try TestKeys.publicKey(TestKeys.host(used)))")
            }
            try add("10.91.1.2", jump1, .ed25519)
            try add("10.91.2.3", jump2, .ecdsa)
            for address in inner.listenAddresses { try add(address, inner, .ed25519Other) }
            try add("10.91.3.4", far, .ed25519)
            return try jump1.writeKnownHosts(lines, name: "known_hosts-\(UniqueNumber.next())")
        }

        var jump1Target: SSHTarget { get throws { try jump1.target("10.91.1.2", name: "jump1") } }
        var jump2Target: SSHTarget { get throws { try jump2.target("10.91.2.3", name: "jump2") } }

        func innerTarget(_ address: String, name: String? = nil) throws -> SSHTarget {
            var target = try inner.target(address, name: name ?? "inner-\(address)")
            target.jumps = [try jump1Target]
            return target
        }

        var farTarget: SSHTarget {
            get throws {
                var target = try far.target("10.91.3.4", name: "far")
                target.jumps = [try jump1Target, try jump2Target]
                return target
            }
        }

        func inController<T: Sendable>(_ body: @escaping @Sendable () throws -> T) throws -> T {
            try NamespaceThread.run(in: controller.namespace, body)
        }

        /// How many logins sshd accepted.
        static func logins(_ fixture: SSHDFixture) -> Int {
            fixture.log.components(separatedBy: "Accepted publickey").count - 1
        }
    }

    static func requirements() throws {
        try Integration.require(.root, .networkNamespaces, .command("sshd"), .command("ssh-keygen"), .command("unshare"))
    }

    @Test func innerHostsGoThroughOneSharedJumpSession() throws {
        try Self.requirements()
        let fleet = try Fleet()
        defer { fleet.shutdown() }
        let options = fleet.jump1.options(knownHosts: try fleet.knownHosts())
        let targets = try fleet.inner.listenAddresses.map { try fleet.innerTarget($0) }
        let results = try fleet.inController {
            HostRunner(parallelism: 8).run(targets, options: options) { session in
                try session.exec("echo $SSH_CONNECTION").stdoutText
            }
        }
        #expect(results.count == 9)
        for (result, address) in zip(results, fleet.inner.listenAddresses) {
            let fields = try #require(result.outcome.value, "\(String(describing: result.outcome.error))").split(separator: " ")
            // The inner sshd saw the connection come from the jump host's inner address, to its own address.
            #expect(fields.first == "10.91.2.2")
            #expect(fields.count >= 3 && fields[2] == Substring(address))
        }
        // All nine rode on one login to the jump host, not one each.
        #expect(Fleet.logins(fleet.jump1) == 1)
        #expect(Fleet.logins(fleet.inner) == 9)

        // The controller itself cannot reach the inner host: the jump was needed.
        let direct = try fleet.inController {
            Result { try SSHSession.connect(to: try fleet.inner.target("10.91.2.4"), options: options).close() }
        }
        #expect(throws: SSHError.self) { try direct.get() }
    }

    @Test func channelsPerJumpSessionAreBounded() throws {
        try Self.requirements()
        let fleet = try Fleet()
        defer { fleet.shutdown() }
        var bounded = fleet.jump1.options(knownHosts: try fleet.knownHosts())
        bounded.channelsPerJump = 3
        let options = bounded
        let targets = try fleet.inner.listenAddresses.map { try fleet.innerTarget($0) }
        let results = try fleet.inController {
            HostRunner(parallelism: 9).run(targets, options: options) { session in
                // Hold every session open a moment, so all nine want a channel at the same time.
                try session.exec("sleep 0.5; echo ok").stdoutText
            }
        }
        #expect(results.allSatisfy { $0.outcome.value == "ok\n" }, "\(results.map { String(describing: $0.outcome.error) })")
        // Nine channels at once, three per jump session: at least three sessions.
        #expect(Fleet.logins(fleet.jump1) >= 3)
        #expect(Fleet.logins(fleet.jump1) <= 9)
    }

    @Test func manyChannelsMovingDataAtOnceThroughOneJumpSession() throws {
        try Self.requirements()
        let fleet = try Fleet()
        defer { fleet.shutdown() }
        let options = fleet.jump1.options(knownHosts: try fleet.knownHosts())
        let targets = try fleet.inner.listenAddresses.map { try fleet.innerTarget($0) }
        // Every channel both ways at once, more than the socket buffers hold: libssh2 has to stop mid-packet, and
        // the hub must repeat exactly that call before any other.
        let results = try fleet.inController {
            HostRunner(parallelism: 9).run(targets, options: options) { session -> Bool in
                let blob = Data((0..<(4 << 20)).map { UInt8(truncatingIfNeeded: $0 &* 131 &+ session.target.port) })
                let echoed = try session.exec("cat", stdin: blob)
                let big = try session.exec("head -c 5000000 /dev/zero")
                return echoed.stdout == blob && big.stdout.count == 5_000_000
            }
        }
        #expect(results.allSatisfy { $0.outcome.value == true }, "\(results.map { String(describing: $0.outcome.error) })")
        #expect(Fleet.logins(fleet.jump1) == 1)
    }

    @Test func innerHostKeyIsCheckedUnderTheInnerHostsOwnName() throws {
        try Self.requirements()
        let fleet = try Fleet()
        defer { fleet.shutdown() }
        let target = try fleet.innerTarget("10.91.2.4", name: "db1")
        // Unknown: the jump host's key is fine, the inner host's is missing.
        let unknown = fleet.jump1.options(knownHosts: try fleet.knownHosts(except: ["10.91.2.4"]))
        let first = try fleet.inController { Result { try SSHSession.connect(to: target, options: unknown).close() } }
        let unknownError = try #require(first.error as? SSHError)
        #expect(unknownError.host == "db1")
        #expect(unknownError.hostKeyProblem == .unknown)
        #expect(unknownError.via == nil)
        #expect(unknownError.message.contains("10.91.2.4 port 22 (reached through jump host jump1)"))
        // The line to add names the inner host as OpenSSH would (port 22: no brackets), not the jump host.
        #expect(unknownError.message.contains("\n10.91.2.4 ssh-ed25519 "))

        // Changed: known_hosts holds another key for the inner host.
        let changed = fleet.jump1.options(knownHosts: try fleet.knownHosts(replacing: ["10.91.2.4": .ed25519]))
        let second = try fleet.inController { Result { try SSHSession.connect(to: target, options: changed).close() } }
        let changedError = try #require(second.error as? SSHError)
        #expect(changedError.host == "db1")
        #expect(changedError.hostKeyProblem == .changed)
        #expect(changedError.message.contains("HOST KEY CHANGED for 10.91.2.4 port 22"))

        // A jump host whose own key is unknown: every host behind it fails with that, naming the jump host.
        let jumpUnknown = fleet.jump1.options(knownHosts: try fleet.knownHosts(except: ["10.91.1.2"]))
        let third = try fleet.inController { Result { try SSHSession.connect(to: target, options: jumpUnknown).close() } }
        let jumpError = try #require(third.error as? SSHError)
        #expect(jumpError.host == "db1")
        #expect(jumpError.via == "jump1")
        #expect(jumpError.reason == "via jump1: host key unknown")
    }

    @Test func jumpHostDownFailsEveryHostBehindItAndOnlyThose() throws {
        try Self.requirements()
        let fleet = try Fleet()
        defer { fleet.shutdown() }
        let options = fleet.jump1.options(knownHosts: try fleet.knownHosts())
        var deadJump = try fleet.jump1Target
        deadJump.port = 2200  // nothing listens there
        deadJump.name = "bastion-down"
        var hosts = try fleet.inner.listenAddresses.prefix(4).map { address in
            var target = try fleet.innerTarget(address)
            target.jumps = [deadJump]
            return target
        }
        hosts.append(try fleet.jump1Target)  // reached directly
        hosts.append(try fleet.innerTarget("10.91.2.15"))  // behind the live jump host
        let targets = hosts
        let results = try fleet.inController {
            HostRunner(parallelism: 6).run(targets, options: options) { session in try session.exec("true").succeeded }
        }
        for result in results.prefix(4) {
            let error = try #require(result.outcome.error as? SSHError)
            #expect(error.host == result.target.name)
            #expect(error.via == "bastion-down")
            #expect(error.reason == "via bastion-down: unreachable")
            #expect(error.message.contains("through jump host bastion-down: cannot connect"))
        }
        #expect(results[4].outcome.value == true)
        #expect(results[5].outcome.value == true, "\(String(describing: results[5].outcome.error))")

        // A jump host that is up but cannot reach the inner address: that host fails, saying which jump refused.
        let unreachable = try fleet.innerTarget("10.91.3.4", name: "far-via-jump1")
        let refused = try fleet.inController { Result { try SSHSession.connect(to: unreachable, options: options).close() } }
        let error = try #require(refused.error as? SSHError)
        #expect(error.host == "far-via-jump1")
        #expect(error.via == nil)  // jump1 is fine; the host behind it is what cannot be reached
        #expect(error.reason == "unreachable")
        #expect(error.message.contains("jump host jump1 could not open a connection to 10.91.3.4 port 22"))
    }

    @Test func twoJumpChain() throws {
        try Self.requirements()
        let fleet = try Fleet()
        defer { fleet.shutdown() }
        let options = fleet.jump1.options(knownHosts: try fleet.knownHosts())
        let targets = [try fleet.farTarget, try fleet.innerTarget("10.91.2.4")]
        let results = try fleet.inController {
            HostRunner(parallelism: 2).run(targets, options: options) { session -> String in
                // Enough bytes both ways to cross several channel windows of both jump sessions.
                let blob = Data((0..<(3 << 20)).map { UInt8(truncatingIfNeeded: $0 &* 31) })
                let echoed = try session.exec("cat", stdin: blob)
                guard echoed.stdout == blob else { throw FixtureError("\(session.target.name): \(echoed.stdout.count) bytes came back") }
                return try session.exec("echo $SSH_CONNECTION").stdoutText
            }
        }
        let far = try #require(results[0].outcome.value, "\(String(describing: results[0].outcome.error))")
        #expect(far.hasPrefix("10.91.3.3 "))  // from jump2's far side
        let near = try #require(results[1].outcome.value, "\(String(describing: results[1].outcome.error))")
        #expect(near.hasPrefix("10.91.2.2 "))
        #expect(Fleet.logins(fleet.jump1) == 1)  // the session to jump1 carried jump2's session and the near host's
        #expect(Fleet.logins(fleet.jump2) == 1)

        // The second jump host down: the far host fails naming it.
        fleet.jump2.stop()
        let after = try fleet.inController { Result { try SSHSession.connect(to: try fleet.farTarget, options: options).close() } }
        let error = try #require(after.error as? SSHError)
        #expect(error.host == "far")
        #expect(error.via == "jump2")
    }
}

extension Result {
    var error: Failure? {
        if case .failure(let error) = self { return error }
        return nil
    }
}
