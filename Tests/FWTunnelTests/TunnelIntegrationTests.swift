import FWTunnel
import Foundation
import NIOCore
import Testing
import TestSupport

/// home, work and the service as real processes and sockets on loopback.
@Suite(.serialized) struct TunnelIntegrationTests {
    @Test(arguments: [false, true]) func clientsReachTheServiceThroughHomeAndWork(tls: Bool) throws {
        let service = try TestService(.echo)
        let tunnel = try TunnelFixture.running(service, tls: tls)
        defer { tunnel.stop(); service.stop() }
        let client = try TestClient(port: tunnel.port("echo"))
        let payload = randomBytes(200_000)
        #expect(try client.echo(payload))
        let home = tunnel.homeStatus, work = tunnel.workStatus()
        #expect(number(home, "services.echo.bytesFromClients") == 200_000)
        #expect(number(work, "services.echo.bytesToService") == 200_000)
        #expect(number(home, "agents.w1.sessions") == 1)
        #expect(flag(work, "tls") == tls)
        // In the clear the linked connection runs in the kernel on both sides; TLS keeps it on NIO.
        #expect(number(home, "splicedRelays") == (tls ? nil : 1))
        #expect(number(work, "splicedRelays") == (tls ? nil : 1))
        client.hangUp()
        #expect(eventually(5) { number(tunnel.homeStatus, "connections") == 0 && number(tunnel.workStatus(), "services.echo.active") == 0 })
        // The pooled connection the client took was replaced (after the service connection was made): the pool
        // is back at its target, on both sides.
        #expect(eventually(5) {
            let pool = tunnel.workStatus()
            return number(pool, "pool.idle") == number(pool, "pool.target") && number(tunnel.homeStatus, "agents.w1.idleDataConnections") == number(pool, "pool.target")
        }, "\(tunnel.workStatus())")
        if !tls {
            #expect(number(tunnel.homeStatus, "splicedRelays") == 0)
            #expect(number(tunnel.workStatus(), "splicedRelays") == 0)
        }
    }

    /// The probe socket is a client that skips the allowlist (root only): it proves home, an agent and the service
    /// answer, and it says so when they do not.
    @Test(arguments: [false, true]) func theProbeGoesThroughTheWholePathAndReportsWhenItCannot(tls: Bool) throws {
        let service = try TestService(.garbage)  // speaks first, as sshd does
        let tunnel = try TunnelFixture.running(service, tls: tls, allow: ["192.0.2.1"])
        defer { tunnel.stop(); service.stop() }
        let probed = try tunnel.probe("echo")
        #expect(probed.status == 0, "\(probed.stdoutText) \(probed.stderrText)")
        #expect(probeResult(probed) == "answered", "\(probed.stdoutText)")
        #expect(number(tunnel.homeStatus, "services.echo.refusedAllowlist") == 0)
        #expect(service.connections == 1, "the service saw the probe")
        #expect(FileManager.default.fileExists(atPath: tunnel.folder.path("probe-echo.sock")))
        let mode = (try FileManager.default.attributesOfItem(atPath: tunnel.folder.path("probe-echo.sock"))[.posixPermissions] as? Int) ?? 0
        #expect(mode & 0o077 == 0, "probe socket mode \(String(mode, radix: 8))")

        tunnel.works["w1"]!.stop()
        let alone = try tunnel.probe("echo")
        #expect(alone.status == 1, "\(alone.stdoutText)")
        #expect(probeResult(alone) == "closed", "\(alone.stdoutText)")
    }

    private func probeResult(_ run: ProcessResult) -> String? {
        (try? JSONSerialization.jsonObject(with: run.stdout) as? [String: Any])?["result"] as? String
    }

    @Test func spliceOffRelaysInUserSpace() throws {
        let service = try TestService(.echo)
        defer { service.stop() }
        let tunnel = try TunnelFixture(services: [.init(name: "echo", target: service.port)])
        defer { tunnel.stop() }
        try tunnel.setHomeOption("splice", false)
        tunnel.workOptions["splice"] = false
        try tunnel.startHome()
        try tunnel.startWork()
        let client = try TestClient(port: tunnel.port("echo"))
        let payload = randomBytes(300_000)
        #expect(try client.echo(payload))
        #expect(number(tunnel.homeStatus, "services.echo.bytesToClients") == 300_000)
        #expect(number(tunnel.homeStatus, "splicedRelays") == nil)
        #expect(number(tunnel.workStatus(), "splicedRelays") == nil)
        #expect(number(tunnel.workStatus(), "services.echo.active") == 1)
    }

    /// With the kernel relay, work's engine makes the connection to the service: a service that refuses closes
    /// the client, is counted and logged, and leaves nothing active.
    @Test func aServiceThatRefusesClosesTheClientAndIsCounted() throws {
        let tunnel = try TunnelFixture(services: [.init(name: "echo", target: try freePort())])  // nothing listens there
        defer { tunnel.stop() }
        try tunnel.startHome()
        try tunnel.startWork()
        let client = try TestClient(port: tunnel.port("echo"))
        #expect(client.closedByPeer(), "the client is closed (not left to its receive timeout)")
        #expect(eventually(5) { number(tunnel.workStatus(), "services.echo.connectFailures") == 1 })
        #expect(number(tunnel.workStatus(), "services.echo.active") == 0)
        #expect(eventually(5) { number(tunnel.workStatus(), "splicedRelays") == 0 })
        // home passes the end on as a half-close; the client's own close ends the connection there.
        client.hangUp()
        #expect(eventually(5) { number(tunnel.homeStatus, "connections") == 0 })
    }

    /// The per-client limit refuses a third connection from one address while another address still gets in;
    /// the total limit refuses the third connection whatever its address. Refused clients are closed and counted,
    /// the others keep relaying, and a place freed by a client that leaves is taken by the next.
    @Test(arguments: [("connectionsPerClient", true), ("connections", false)])
    func connectionsOverALimitAreRefusedAndOthersKeepRelaying(limit: String, perClient: Bool) throws {
        let service = try TestService(.echo)
        let tunnel = try TunnelFixture.running(service, allow: ["127.0.0.0/8"], limits: [limit: 2])
        defer { tunnel.stop(); service.stop() }
        let first = try TestClient(port: tunnel.port("echo")), second = try TestClient(port: tunnel.port("echo"))
        #expect(try first.echo(Array("one".utf8)))
        #expect(try second.echo(Array("two".utf8)))
        let third = try TestClient(port: tunnel.port("echo"))
        #expect(third.closedByPeer(), "the third connection from one address is over either limit")
        let other = try TestClient(port: tunnel.port("echo"), source: "127.0.0.2")
        if perClient {
            #expect(try other.echo(Array("other".utf8)), "another address has places of its own")
        } else {
            #expect(other.closedByPeer(), "no place left in total")
        }
        #expect(number(tunnel.homeStatus, "services.echo.refusedLimit") == (perClient ? 1 : 2))
        #expect(number(tunnel.workStatus(), "connectRequests") == (perClient ? 3 : 2), "work never heard of the refused")
        #expect(try first.echo(Array("still".utf8)))
        first.hangUp()
        #expect(eventually(5) { number(tunnel.homeStatus, "connections") == (perClient ? 2 : 1) })
        let next = try TestClient(port: tunnel.port("echo"))
        #expect(try next.echo(Array("next".utf8)), "a freed place is taken by the next client")
    }

    /// A client for a service no agent serves right now waits at most `clientWait`, then is closed and counted:
    /// no hang, and nothing left behind.
    @Test func aClientWithoutAnAgentIsClosedAfterTheWait() throws {
        let tunnel = try TunnelFixture(services: [.init(name: "echo", target: 9)], limits: ["clientWait": 1])
        defer { tunnel.stop() }
        try tunnel.startHome()
        let started = ContinuousClock.now
        let client = try TestClient(port: tunnel.port("echo"), timeout: 10)
        #expect(client.closedByPeer())
        let waited = ContinuousClock.now - started
        #expect(waited >= .milliseconds(900) && waited < .seconds(5), "closed after \(waited)")
        #expect(number(tunnel.homeStatus, "services.echo.waitTimeouts") == 1)
        #expect(eventually(5) { number(tunnel.homeStatus, "connections") == 0 })
    }

    /// A client that resets its connection while it waits for an agent gives its place back at once, not after
    /// `clientWait` (30 s here).
    @Test func aWaitingClientThatResetsGivesItsPlaceBack() throws {
        let tunnel = try TunnelFixture(services: [.init(name: "echo", target: 9)], limits: ["clientWait": 30])
        defer { tunnel.stop() }
        try tunnel.startHome()
        let client = try TestClient(port: tunnel.port("echo"))
        #expect(eventually(5) { number(tunnel.homeStatus, "services.echo.waiting") == 1 })
        client.reset()
        #expect(eventually(3) { number(tunnel.homeStatus, "connections") == 0 })
        #expect(number(tunnel.homeStatus, "services.echo.waiting") == 0)
    }

    @Test func aClientOutsideTheAllowlistIsRefusedBeforeWorkHearsOfIt() throws {
        let service = try TestService(.echo)
        defer { service.stop() }
        let tunnel = try TunnelFixture(services: [.init(name: "echo", target: service.port)], allow: ["127.0.0.2"])
        defer { tunnel.stop() }
        try tunnel.startHome()
        // An empty pool: had home admitted the client, it would have had to ask work for a data connection.
        try tunnel.startWork(pool: ["min": 0, "max": 4])
        let refused = try TestClient(port: tunnel.port("echo"))
        try? refused.send("SSH-2.0-probe\r\n")
        #expect(refused.closedByPeer())
        #expect(eventually(3) { number(tunnel.homeStatus, "services.echo.refusedAllowlist") == 1 })
        let work = tunnel.workStatus()
        #expect(number(work, "openDataRequests") == 0)
        #expect(number(work, "connectRequests") == 0)
        #expect(number(work, "services.echo.sessions") == 0)
        #expect(service.connections == 0)
        #expect(tunnel.log("home").contains("client=127.0.0.1:"), "the refusal is logged with the address")

        let allowed = try TestClient(port: tunnel.port("echo"), source: "127.0.0.2")
        #expect(try allowed.echo(Array("hello".utf8)))
        #expect(number(tunnel.workStatus(), "openDataRequests")! >= 1, "with an empty pool the data connection came on demand")
    }

    @Test func aWrongSecretIsRefused() throws {
        let service = try TestService(.echo)
        defer { service.stop() }
        let tunnel = try TunnelFixture(services: [.init(name: "echo", target: service.port)])
        defer { tunnel.stop() }
        try tunnel.startHome()
        let wrong = tunnel.folder.path("wrong-secret")
        try "another secret of the right length".write(toFile: wrong, atomically: true, encoding: .utf8)
        chmod(wrong, 0o600)
        try tunnel.startWork(secretPath: wrong, waitConnected: false)
        #expect(eventually(5) { number(tunnel.homeStatus, "failedAuth")! >= 2 })
        #expect(number(tunnel.workStatus(), "authRefused")! >= 1)
        #expect(flag(tunnel.workStatus(), "connected") == false)
        #expect(flag(tunnel.homeStatus, "agents.w1.connected") == nil, "no agent was registered")
        #expect(!tunnel.log("home").contains("another secret"), "the secret is never logged")
        #expect(!tunnel.log("work-w1").contains("another secret"))
    }

    @Test func aSecretFileReadableByOthersIsRefusedAtStart() throws {
        let tunnel = try TunnelFixture(services: [.init(name: "echo", target: 9)])
        defer { tunnel.stop() }
        chmod(tunnel.secretPath, 0o640)
        let result = try runProcess(TunnelFixture.homeBinary, ["--config", tunnel.folder.path("home.json"), "--check-config"])
        #expect(result.status == 2)
        #expect(result.stderrText.contains("chmod 600"))
        chmod(tunnel.secretPath, 0o600)
        let ok = try runProcess(TunnelFixture.homeBinary, ["--config", tunnel.folder.path("home.json"), "--check-config"])
        #expect(ok.status == 0)
        #expect(ok.stdoutText.contains("service echo"))
    }

    @Test func aReplayedHandshakeIsRefused() throws {
        let tunnel = try TunnelFixture(services: [.init(name: "echo", target: 9)])
        defer { tunnel.stop() }
        try tunnel.startHome()
        let secret = try Secret.load(path: tunnel.secretPath)
        // A genuine exchange, as an eavesdropper on a TLS-off link would see it.
        let first = try TestClient(port: tunnel.agentPort)
        guard case .challenge(_, let nonce)? = try readFrame(first) else { Issue.record("no challenge"); return }
        let hello = Handshake.sign(Hello(role: .command, agent: "w9", session: [UInt8](repeating: 0, count: 16), services: ["echo"]), nonce: nonce, secret: secret)
        let captured = encode(.hello(hello))
        try first.send(captured)
        guard case .welcome? = try readFrame(first) else { Issue.record("the genuine hello was not welcomed"); return }

        let replay = try TestClient(port: tunnel.agentPort)
        guard case .challenge(_, let fresh)? = try readFrame(replay) else { Issue.record("no challenge"); return }
        #expect(fresh != nonce)
        try replay.send(captured)
        #expect(try readFrame(replay) == .refuse(reason: "authentication failed"))
        #expect(replay.closedByPeer())
        #expect(number(tunnel.homeStatus, "failedAuth") == 1)
    }

    @Test func aConnectionToTheDataPortThatNeverAuthenticatesStealsNoClient() throws {
        let service = try TestService(.echo)
        let tunnel = try TunnelFixture.running(service, pool: ["min": 0, "max": 4])
        defer { tunnel.stop(); service.stop() }
        let silent = try TestClient(port: tunnel.agentPort)
        let forger = try TestClient(port: tunnel.agentPort)
        guard case .challenge? = try readFrame(forger) else { Issue.record("no challenge"); return }
        try forger.send(encode(.hello(Hello(role: .data, agent: "w1", session: [UInt8](repeating: 0, count: 16), services: [], mac: randomBytes(32)))))
        // A client arrives while both squatters are connected: it must get work's data connection, not theirs.
        let client = try TestClient(port: tunnel.port("echo"))
        #expect(try client.echo(randomBytes(1000)))
        #expect(try readFrame(forger) == .refuse(reason: "authentication failed"))
        guard case .challenge? = try readFrame(silent) else { Issue.record("no challenge"); return }
        #expect(silent.closedByPeer(), "closed at the handshake deadline")
        #expect(number(tunnel.homeStatus, "handshakeFailures")! >= 1)
        #expect(number(tunnel.homeStatus, "failedAuth") == 1)
    }

    @Test func workKilledAndRestartedServesAgain() throws {
        let service = try TestService(.echo)
        let tunnel = try TunnelFixture.running(service)
        defer { tunnel.stop(); service.stop() }
        #expect(try TestClient(port: tunnel.port("echo")).echo(randomBytes(100)))
        tunnel.works["w1"]!.send(SIGKILL)
        tunnel.works["w1"]!.stop()
        #expect(eventually(5) { flag(tunnel.homeStatus, "agents.w1.connected") == false })
        let waiting = try TestClient(port: tunnel.port("echo"))
        try tunnel.startWork()
        #expect(try waiting.echo(randomBytes(100)), "a client that arrived while work was away is served once it is back")
        #expect(try TestClient(port: tunnel.port("echo")).echo(randomBytes(100)))
        #expect(number(tunnel.homeStatus, "agents.w1.commandConnections") == 2)
    }

    @Test func homeRestartedAndWorkComesBackByItself() throws {
        let service = try TestService(.echo)
        let tunnel = try TunnelFixture.running(service, tls: true)
        defer { tunnel.stop(); service.stop() }
        tunnel.home!.stop()
        #expect(eventually(5) { flag(tunnel.workStatus(), "connected") == false })
        try tunnel.startHome()
        #expect(eventually(10) { flag(tunnel.workStatus(), "connected") == true && number(tunnel.homeStatus, "agents.w1.idleDataConnections")! >= 1 })
        #expect(try TestClient(port: tunnel.port("echo")).echo(randomBytes(5000)))
        #expect(number(tunnel.workStatus(), "commandConnects")! >= 2)
    }

    @Test func twoAgentsShareAServiceAndTheSurvivorKeepsItsSessions() throws {
        let service = try TestService(.echo)
        defer { service.stop() }
        let tunnel = try TunnelFixture(services: [.init(name: "echo", target: service.port)])
        defer { tunnel.stop() }
        try tunnel.startHome()
        try tunnel.startWork("w1")
        try tunnel.startWork("w2")
        var clients: [TestClient] = []
        for _ in 0..<4 {
            let client = try TestClient(port: tunnel.port("echo"))
            #expect(try client.echo(randomBytes(100)))
            clients.append(client)
        }
        let status = tunnel.homeStatus
        #expect(number(status, "agents.w1.active") == 2 && number(status, "agents.w2.active") == 2, "least connections spreads them")
        tunnel.works["w1"]!.send(SIGKILL)
        tunnel.works["w1"]!.stop()
        #expect(eventually(5) { flag(tunnel.homeStatus, "agents.w1.connected") == false })
        let survivors = clients.filter { (try? $0.echo(randomBytes(64 * 1024))) == true }
        #expect(survivors.count == 2, "w2's sessions are untouched, w1's are closed")
        let before = number(tunnel.homeStatus, "agents.w2.sessions")!
        for _ in 0..<3 { #expect(try TestClient(port: tunnel.port("echo")).echo(randomBytes(100)), "\(tunnel.log("home"))\n\(tunnel.log("work-w2"))") }
        #expect(number(tunnel.homeStatus, "agents.w2.sessions") == before + 3)
    }

    @Test func halfClosePassesBothWays() throws {
        let service = try TestService(.echoAfterEOF)
        let tunnel = try TunnelFixture.running(service, name: "later", tls: true)
        defer { tunnel.stop(); service.stop() }
        let client = try TestClient(port: tunnel.port("later"))
        let payload = randomBytes(100_000)
        try client.send(payload)
        client.shutdownWrite()
        #expect(client.receiveAll() == payload + Array("EOF".utf8), "the service saw the end of input and its reply still came back")
    }

    /// The service answers after the client's half-close and closes at once, while the client reads slowly: most
    /// of the answer is still on its way through home and work when the service's connection is over both ways.
    /// All of it arrives, then the end (the kernel relay used to drop what was still in its pipes).
    @Test(arguments: [false, true]) func anAnswerAfterTheServiceClosedReachesASlowClientWhole(tls: Bool) throws {
        let service = try TestService(.echoAfterEOF)
        let tunnel = try TunnelFixture.running(service, name: "later", tls: tls)
        defer { tunnel.stop(); service.stop() }
        let client = try TestClient(port: tunnel.port("later"), timeout: 10, receiveBuffer: 32 << 10)
        let payload = randomBytes(4 << 20)
        try client.send(payload)
        client.shutdownWrite()
        usleep(1_000_000)  // the service has answered and closed by now; the client has read nothing yet
        let (answer, ended) = client.receiveUntilEnd()
        #expect(ended, "the end came after the answer (not the client's timeout)")
        #expect(answer.count == payload.count + 3, "\(answer.count) of \(payload.count + 3) bytes arrived")
        let intact = answer == payload + Array("EOF".utf8)  // (compared here: a failed #expect would print both)
        #expect(intact, "the answer arrived unchanged")
    }

    /// SIGTERM while sessions are in the middle of their traffic: each daemon closes them and exits 0, and NIO has
    /// nothing to complain of (a relay that, closing, schedules work on an event loop that has already shut down).
    @Test(arguments: [false, true]) func stoppingWithSessionsInFlightExitsCleanly(tls: Bool) throws {
        let service = try TestService(.echo)
        let tunnel = try TunnelFixture.running(service, tls: tls)
        defer { tunnel.stop(); service.stop() }
        var clients: [TestClient] = []
        for _ in 0..<48 {
            let client = try TestClient(port: tunnel.port("echo"))
            #expect(try client.echo(randomBytes(100)))
            clients.append(client)
        }
        // Bytes on their way both ways when the signal comes: sent, echoed, not read.
        for client in clients { try client.send(randomBytes(32 << 10)) }
        #expect(tunnel.home!.stop() == 0, "home exits by itself, with status 0:\n\(tunnel.log("home"))")
        #expect(tunnel.works["w1"]!.stop() == 0, "work exits by itself, with status 0:\n\(tunnel.log("work-w1"))")
        for name in ["home", "work-w1"] {
            let log = tunnel.log(name)
            #expect(!log.contains("EventLoop that has already shut down"), "\(name) scheduled work on a stopped loop:\n\(log)")
        }
    }

    @Test func proxyProtocolTellsTheServiceTheRealClient() throws {
        let service = try TestService(.proxyReport)
        let tunnel = try TunnelFixture.running(service, name: "web", proxyProtocol: true, allow: ["127.0.0.0/8"])
        defer { tunnel.stop(); service.stop() }
        let client = try TestClient(port: tunnel.port("web"), source: "127.0.0.3")
        try client.send("ping")
        let expected = "127.0.0.3 \(client.localPort)\nping"
        #expect(String(decoding: client.receive(expected.utf8.count), as: UTF8.self) == expected)
    }

    @Test func sighupReloadsTheAllowlistAndABrokenFileKeepsTheOldOne() throws {
        let service = try TestService(.echo)
        let tunnel = try TunnelFixture.running(service, allow: ["127.0.0.2"])
        defer { tunnel.stop(); service.stop() }
        let live = try TestClient(port: tunnel.port("echo"), source: "127.0.0.2")
        #expect(try live.echo(randomBytes(10)))
        #expect(try TestClient(port: tunnel.port("echo")).closedByPeer())

        try tunnel.writeAllowlist(["127.0.0.1"])
        tunnel.home!.send(SIGHUP)
        #expect(eventually(5) { number(tunnel.homeStatus, "allowlist.reloads") == 1 })
        #expect(try TestClient(port: tunnel.port("echo")).echo(randomBytes(10)))
        #expect(try live.echo(randomBytes(10)), "a live session survives the reload that removed its address")
        #expect(try TestClient(port: tunnel.port("echo"), source: "127.0.0.2").closedByPeer())

        try "127.0.0.1\nnot-an-address\n".write(toFile: tunnel.allowlistPath, atomically: true, encoding: .utf8)
        tunnel.home!.send(SIGHUP)
        #expect(eventually(5) { number(tunnel.homeStatus, "allowlist.reloadFailures") == 1 })
        #expect(tunnel.log("home").contains("not-an-address"), "the log says why")
        #expect(try TestClient(port: tunnel.port("echo")).echo(randomBytes(10)), "the previous list stays in force")
        #expect(tunnel.home!.isRunning)
    }

    @Test func garbageSlowlorisAndOversizeFramesOnEveryPortLeaveHomeServing() throws {
        let service = try TestService(.echo)
        let tunnel = try TunnelFixture.running(service, tls: true)
        defer { tunnel.stop(); service.stop() }
        // The agent port (TLS): plaintext garbage and an oversize "frame" fail the TLS handshake.
        let garbage = try TestClient(port: tunnel.agentPort)
        try? garbage.send(randomBytes(300))
        #expect(garbage.receiveAll().count < 300)
        let oversize = try TestClient(port: tunnel.agentPort)
        try? oversize.send([2, 0xFF, 0xFF] + randomBytes(1000))
        _ = oversize.receiveAll()
        // Slowloris: a byte now and then, never a complete handshake; closed at the deadline.
        let slow = try TestClient(port: tunnel.agentPort, timeout: 4)
        let started = Date()
        for byte in [0x16, 0x03, 0x01] as [UInt8] { try? slow.send([byte]); usleep(300_000) }
        _ = slow.receiveAll()
        #expect(Date().timeIntervalSince(started) < 3.5, "closed by the handshake deadline, not by our timeout")
        // The status socket ignores what is written to it and answers anyway.
        #expect(tunnel.homeStatus != nil)
        #expect(tunnel.home!.isRunning)
        #expect(number(tunnel.homeStatus, "handshakeFailures")! >= 2)
        #expect(try TestClient(port: tunnel.port("echo")).echo(randomBytes(1000)), "home still serves")
    }

    @Test func theAgentPortInTheClearClosesGarbageAndOversizeFrames() throws {
        let service = try TestService(.echo)
        let tunnel = try TunnelFixture.running(service)
        defer { tunnel.stop(); service.stop() }
        for junk in [[2, 0xFF, 0xFF] + randomBytes(100), Array("GET / HTTP/1.1\r\n\r\n".utf8), [2, 0, 3, 1, 2, 3]] {
            let peer = try TestClient(port: tunnel.agentPort)
            guard case .challenge? = try readFrame(peer) else { Issue.record("no challenge"); continue }
            try? peer.send(junk)
            #expect(peer.closedByPeer())
        }
        #expect(number(tunnel.homeStatus, "protocolErrors") == 3)
        #expect(try TestClient(port: tunnel.port("echo")).echo(randomBytes(1000)))
    }

    @Test func workSurvivesAHomeThatSpeaksGarbage() throws {
        let fake = try TestService(.garbage)
        defer { fake.stop() }
        let tunnel = try TunnelFixture(services: [.init(name: "echo", target: 9)])
        defer { tunnel.stop() }
        try tunnel.startWork(waitConnected: false, homePort: fake.port)
        #expect(eventually(10) { number(tunnel.workStatus(), "commandConnects") ?? 0 >= 3 }, "work keeps retrying with backoff")
        #expect(tunnel.works["w1"]!.isRunning)
        #expect(flag(tunnel.workStatus(), "connected") == false)
    }

    @Test func workRefusesAHomeWithAnotherCertificate() throws {
        let tunnel = try TunnelFixture(tls: true, services: [.init(name: "echo", target: 9)])
        defer { tunnel.stop() }
        try tunnel.startHome()
        try tunnel.startWork(waitConnected: false, fingerprint: String(repeating: "00", count: 32))
        #expect(eventually(5) { number(tunnel.workStatus(), "commandConnects") ?? 0 >= 2 })
        #expect(flag(tunnel.workStatus(), "connected") == false)
        #expect(tunnel.log("work-w1").contains("TLS"))
        #expect(tunnel.homeStatus.map { ($0["agents"] as? [String: Any])?.isEmpty } == true)
    }
}

// MARK: Raw protocol access for the attack tests

func encode(_ frame: Frame) -> [UInt8] {
    var buffer = ByteBufferAllocator().buffer(capacity: 64)
    frame.encode(into: &buffer)
    return buffer.readBytes(length: buffer.readableBytes)!
}

func readFrame(_ client: TestClient) throws -> Frame? {
    let header = client.receive(3)
    guard header.count == 3 else { return nil }
    let length = Int(header[1]) << 8 | Int(header[2])
    let payload = client.receive(length)
    var buffer = ByteBufferAllocator().buffer(bytes: header + payload)
    return try Frame.decode(from: &buffer)
}

@Suite struct DaemonStartTests {
    /// A daemon started by a test must not hold another test's pipe open: an ssh client whose stdin pipe lives on
    /// in a daemon never sees the end of its input, and its test hangs until it is killed.
    @Test func aDaemonInheritsNoDescriptorOfTheTestProcess() throws {
        var held: [Int32] = [-1, -1]
        #expect(pipe(&held) == 0)  // deliberately not close-on-exec, as Foundation's pipes may be
        defer { close(held[0]); close(held[1]) }
        let inode = try FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/fd/\(held[1])")
        let service = try TestService(.echo)
        let tunnel = try TunnelFixture.running(service)
        defer { tunnel.stop(); service.stop() }
        for pid in [tunnel.home!.pid, tunnel.works["w1"]!.pid] {
            let open = try FileManager.default.contentsOfDirectory(atPath: "/proc/\(pid)/fd")
                .compactMap { try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/\(pid)/fd/\($0)") }
            #expect(!open.contains(inode), "process \(pid) holds the test's pipe \(inode): \(open.sorted())")
            #expect(open.filter { $0.hasPrefix("pipe:") }.isEmpty, "process \(pid) holds pipes: \(open.sorted())")
        }
    }
}
