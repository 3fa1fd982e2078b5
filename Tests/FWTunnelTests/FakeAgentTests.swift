import Foundation
@testable import FWTunnel
import NIOCore
import Testing

/// An agent speaking the protocol by hand over blocking sockets, authenticated like fwtunnel-work, so a test sees
/// exactly what home sends on each connection and decides itself when a connection ends.
private struct FakeAgent {
    let name: String
    let secret: Secret
    let port: Int

    /// The next frame on `connection` (nil when it ends or stays silent past its timeout).
    func frame(_ connection: TestClient, buffer: inout ByteBuffer) -> Frame? {
        while true {
            if let frame = try? Frame.decode(from: &buffer) { return frame }
            let chunk = connection.receiveSome(4096)
            if chunk.isEmpty { return nil }
            buffer.writeBytes(chunk)
        }
    }

    /// A connection past the challenge, hello and welcome: the welcome's session.
    func authenticated(_ role: ConnectionRole, session: [UInt8], services: [String]) throws -> (TestClient, [UInt8], ByteBuffer) {
        let connection = try TestClient(port: port, timeout: 3)
        var buffer = ByteBuffer()
        guard case .challenge(_, let nonce)? = frame(connection, buffer: &buffer) else { throw TunnelTestError("no challenge") }
        let hello = Handshake.sign(Hello(role: role, agent: name, session: session, services: services), nonce: nonce, secret: secret)
        var out = ByteBuffer()
        Frame.hello(hello).encode(into: &out)
        try connection.send(Array(out.readableBytesView))
        guard case .welcome(let welcomed)? = frame(connection, buffer: &buffer) else { throw TunnelTestError("no welcome") }
        return (connection, welcomed, buffer)
    }
}

@Suite struct FakeAgentTests {
    /// An agent with a command connection and `count` authenticated data connections in home's pool.
    private func pooled(_ tunnel: TunnelFixture, count: Int) throws -> (FakeAgent, TestClient, [(TestClient, ByteBuffer)]) {
        try tunnel.startHome()
        let agent = FakeAgent(name: "fake", secret: try Secret.load(path: tunnel.secretPath), port: tunnel.agentPort)
        let zeros = [UInt8](repeating: 0, count: Frame.sessionSize)
        let (command, session, _) = try agent.authenticated(.command, session: zeros, services: ["echo"])
        var data: [(TestClient, ByteBuffer)] = []
        for _ in 0..<count {
            let (connection, _, buffer) = try agent.authenticated(.data, session: session, services: [])
            data.append((connection, buffer))
        }
        #expect(eventually(5) { number(tunnel.homeStatus, "agents.fake.idleDataConnections") == count })
        #expect(number(tunnel.homeStatus, "splicedRelays") == 0, "the kernel relay is on")
        return (agent, command, data)
    }

    /// With the kernel relay, an authenticated data connection leaves home's NIO and waits in the pool on the
    /// client gate, which keeps sending it heartbeats (every 0.5 s here).
    @Test func idleDataSocketsGetHeartbeats() throws {
        let tunnel = try TunnelFixture(services: [.init(name: "echo", target: 9)])
        defer { tunnel.stop() }
        let (agent, command, data) = try pooled(tunnel, count: 1)
        defer { command.hangUp() }
        var (connection, buffer) = data[0]
        #expect(agent.frame(connection, buffer: &buffer) == .heartbeat)
        #expect(agent.frame(connection, buffer: &buffer) == .heartbeat)
    }

    /// A pooled data connection work has just closed, linked to a client before home saw its end, does not take
    /// the client with it: the client gets the next connection of the pool. Whichever of home's paths sees the
    /// end first (its watch, or the check before the Connect frame), the client is carried.
    @Test func aClientIsNotLinkedToADataConnectionThatJustEnded() throws {
        let tunnel = try TunnelFixture(services: [.init(name: "echo", target: 9)], heartbeat: ["interval": 60, "timeout": 120])
        defer { tunnel.stop() }
        for _ in 0..<5 {
            let (agent, command, data) = try pooled(tunnel, count: 2)
            data[0].0.hangUp()
            let client = try TestClient(port: tunnel.port("echo"))
            var (kept, keptBuffer) = data[1]
            guard case .connect? = agent.frame(kept, buffer: &keptBuffer) else {
                Issue.record("the client was not linked to the live data connection")
                return
            }
            try kept.send("pong")
            #expect(client.receive(4) == Array("pong".utf8))
            client.hangUp()
            kept.hangUp()
            command.hangUp()
            #expect(eventually(5) { number(tunnel.homeStatus, "connections") == 0 }, "the client's place is free again")
            tunnel.home?.stop()
        }
    }

    /// work never half-closes a connection before it relays: the end of its input on an idle data connection or on
    /// the command connection means that side of work is gone, and home lets go of it at once, not a heartbeat
    /// timeout later (clients would be linked to the dead connections, or wait on the dead agent, meanwhile).
    @Test(arguments: [true, false]) func anAgentConnectionThatEndsItsInputIsLetGoAtOnce(splice: Bool) throws {
        let tunnel = try TunnelFixture(services: [.init(name: "echo", target: 9)], heartbeat: ["interval": 60, "timeout": 120])
        defer { tunnel.stop() }
        try tunnel.setHomeOption("splice", splice)
        try tunnel.startHome()
        let agent = FakeAgent(name: "fake", secret: try Secret.load(path: tunnel.secretPath), port: tunnel.agentPort)
        let (command, session, _) = try agent.authenticated(.command, session: [UInt8](repeating: 0, count: Frame.sessionSize), services: ["echo"])
        defer { command.hangUp() }
        let data = try (0..<2).map { _ in try agent.authenticated(.data, session: session, services: []).0 }
        defer { data.forEach { $0.hangUp() } }
        #expect(eventually(5) { number(tunnel.homeStatus, "agents.fake.idleDataConnections") == 2 })
        data[0].shutdownWrite()
        #expect(eventually(2) { number(tunnel.homeStatus, "agents.fake.idleDataConnections") == 1 }, "the data connection left the pool")
        command.shutdownWrite()
        #expect(eventually(2) { flag(tunnel.homeStatus, "agents.fake.connected") == false }, "the agent is gone")
    }

    /// An agent that comes back offering fewer services (its config changed) keeps the waiting clients of those it
    /// still offers; a client of a service it dropped is not handed to it (work would refuse the Connect and close
    /// the client) but goes to another agent of that service.
    @Test func anAgentBackWithFewerServicesDoesNotTakeTheOthersClients() throws {
        let tunnel = try TunnelFixture(services: [.init(name: "s1", target: 9), .init(name: "s2", target: 9)],
                                       limits: ["clientWait": 30], heartbeat: ["interval": 60, "timeout": 120])
        defer { tunnel.stop() }
        try tunnel.startHome()
        let secret = try Secret.load(path: tunnel.secretPath)
        let zeros = [UInt8](repeating: 0, count: Frame.sessionSize)
        let fake = FakeAgent(name: "fake", secret: secret, port: tunnel.agentPort)
        let (first, _, _) = try fake.authenticated(.command, session: zeros, services: ["s1", "s2"])
        defer { first.hangUp() }
        let client = try TestClient(port: tunnel.port("s2"))
        defer { client.hangUp() }
        #expect(eventually(5) { number(tunnel.homeStatus, "connections") == 1 }, "the client waits")
        // The same agent again, now with s1 only: the new session replaces the old one.
        let (second, session, _) = try fake.authenticated(.command, session: zeros, services: ["s1"])
        defer { second.hangUp() }
        let (data, _, dataBuffer) = try fake.authenticated(.data, session: session, services: [])
        var buffer = dataBuffer
        defer { data.hangUp() }
        #expect(fake.frame(data, buffer: &buffer) == nil, "no Connect for s2 on a session without s2")
        // Another agent for s2 gets it.
        let other = FakeAgent(name: "other", secret: secret, port: tunnel.agentPort)
        let (command, otherSession, _) = try other.authenticated(.command, session: zeros, services: ["s2"])
        defer { command.hangUp() }
        let (otherData, _, otherDataBuffer) = try other.authenticated(.data, session: otherSession, services: [])
        var otherBuffer = otherDataBuffer
        defer { otherData.hangUp() }
        guard case .connect(let connect)? = other.frame(otherData, buffer: &otherBuffer) else {
            Issue.record("the waiting client of s2 did not reach the other agent")
            return
        }
        #expect(connect.service == "s2")
    }

    /// The check home makes on a pooled data socket just before it writes a Connect frame there (the path the test
    /// above cannot force, since the gate's watch may see the end first): quiet and open passes; a byte waiting,
    /// or the end of input (work closed it), fails; and the check takes nothing from the socket.
    @Test func aPooledSocketIsQuietOnlyWithNothingWaiting() throws {
        var fds: [CInt] = [-1, -1]
        try #require(socketpair(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0, &fds) == 0)
        let (home, work) = (fds[0], fds[1])
        defer { close(home) }
        #expect(DataConnection.isQuiet(socket: home))
        var byte: UInt8 = 7
        #expect(send(work, &byte, 1, 0) == 1)
        #expect(!DataConnection.isQuiet(socket: home), "a byte from work while idle")
        #expect(!DataConnection.isQuiet(socket: home), "still there: the check only looked")
        byte = 0
        #expect(recv(home, &byte, 1, 0) == 1 && byte == 7)
        #expect(DataConnection.isQuiet(socket: home))
        close(work)
        #expect(!DataConnection.isQuiet(socket: home), "work closed it")
    }

    /// home shut down with one agent's clients waiting and another agent's data connections pooled: everything is
    /// closed once and home exits cleanly (it used to move the waiting clients to the other agent's pool while
    /// tearing down, and crash on a pool it had already closed).
    @Test func shutdownWithWaitingClientsAndPooledConnectionsIsClean() throws {
        let tunnel = try TunnelFixture(services: [.init(name: "echo", target: 9)], limits: ["clientWait": 30])
        defer { tunnel.stop() }
        try tunnel.startHome()
        let secret = try Secret.load(path: tunnel.secretPath)
        let zeros = [UInt8](repeating: 0, count: Frame.sessionSize)
        let busy = FakeAgent(name: "busy", secret: secret, port: tunnel.agentPort)
        let (busyCommand, _, _) = try busy.authenticated(.command, session: zeros, services: ["echo"])
        let idle = FakeAgent(name: "idle", secret: secret, port: tunnel.agentPort)
        let (idleCommand, idleSession, _) = try idle.authenticated(.command, session: zeros, services: ["echo"])
        defer { busyCommand.hangUp(); idleCommand.hangUp() }
        // Two clients while neither agent has a data connection: least connections puts one on each.
        let first = try TestClient(port: tunnel.port("echo")), second = try TestClient(port: tunnel.port("echo"))
        #expect(eventually(5) { number(tunnel.homeStatus, "services.echo.waiting") == 2 })
        // The idle agent's data connection takes its waiting client; a second one stays in its pool.
        let (carrying, _, _) = try idle.authenticated(.data, session: idleSession, services: [])
        let (pooled, _, _) = try idle.authenticated(.data, session: idleSession, services: [])
        defer { carrying.hangUp(); pooled.hangUp() }
        #expect(eventually(5) { number(tunnel.homeStatus, "agents.idle.idleDataConnections") == 1 })
        #expect(number(tunnel.homeStatus, "services.echo.waiting") == 1)
        let status = tunnel.home?.stop()
        #expect(status == 0, "home exited cleanly (status \(status.map(String.init) ?? "none"))\n\(tunnel.log("home"))")
        #expect(first.closedByPeer() && second.closedByPeer())
    }

    /// A data connection work ends leaves the pool at once (heartbeats are a minute apart here, so only the
    /// gate's watch can see it), and a client is linked to one still there: the Connect frame, then the client's
    /// bytes both ways.
    @Test func anEndedIdleSocketLeavesThePoolAndAnotherCarriesAClient() throws {
        let tunnel = try TunnelFixture(services: [.init(name: "echo", target: 9)], heartbeat: ["interval": 60, "timeout": 120])
        defer { tunnel.stop() }
        let (agent, command, data) = try pooled(tunnel, count: 2)
        defer { command.hangUp() }
        data[1].0.hangUp()
        #expect(eventually(2) { number(tunnel.homeStatus, "agents.fake.idleDataConnections") == 1 },
                "a data connection work ended leaves the pool")
        var (kept, keptBuffer) = data[0]
        let client = try TestClient(port: tunnel.port("echo"))
        try client.send("ping")
        guard case .connect(let connect)? = agent.frame(kept, buffer: &keptBuffer) else {
            Issue.record("no Connect frame on the pooled data connection")
            return
        }
        #expect(connect.service == "echo")
        #expect(Array(keptBuffer.readableBytesView) + kept.receive(4 - keptBuffer.readableBytes) == Array("ping".utf8),
                "the client's bytes follow the Connect frame")
        try kept.send("pong")
        #expect(client.receive(4) == Array("pong".utf8))
        #expect(number(tunnel.homeStatus, "agents.fake.idleDataConnections") == 0)
        #expect(eventually(5) { number(tunnel.homeStatus, "splicedRelays") == 1 })
    }
}
