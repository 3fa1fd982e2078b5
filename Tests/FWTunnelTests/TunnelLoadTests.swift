import FWTunnel
import Foundation
import NIOCore
import NIOPosix
import Synchronization
import Testing
import TestSupport

/// The tunnel under real programs and load: OpenSSH through it, a thousand concurrent clients, ten thousand short
/// ones. Serialized: each one uses both cores.
@Suite(.serialized) struct TunnelLoadTests {
    @Test(arguments: [false, true]) func anSSHSessionThroughTheTunnelRunsACommandAndCopies50MB(tls: Bool) throws {
        try Integration.require(.root, .command("sshd"), .command("ssh"), .command("ssh-keygen"))
        let sshd = try TunnelSSHD()
        defer { sshd.stop() }
        let tunnel = try TunnelFixture(tls: tls, services: [.init(name: "ssh", target: sshd.port)])
        defer { tunnel.stop() }
        try tunnel.startHome()
        try tunnel.startWork()
        let port = tunnel.port("ssh")

        let hello = try sshd.run(port: port, "echo through-the-tunnel; echo $SSH_CONNECTION")
        #expect(hello.status == 0, "\(hello.stderrText)")
        let lines = hello.stdoutText.split(separator: "\n")
        #expect(lines.first == "through-the-tunnel")
        #expect(lines.last?.hasPrefix("127.0.0.1 ") == true, "sshd sees the connection from work")

        let file = try urandom(50 * 1024 * 1024)
        let remote = sshd.folder.path("copied")
        let copy = try sshd.run(port: port, "cat > \(remote) && sha256sum \(remote)", stdin: Data(file))
        #expect(copy.status == 0, "\(copy.stderrText)\n\(tunnel.diagnosis(services: ["ssh"]))\nsshd: \(sshd.logTail)")
        let local = try runProcess("sha256sum", [], stdin: Data(file))
        #expect(copy.stdoutText.split(separator: " ").first == local.stdoutText.split(separator: " ").first)
        #expect(number(tunnel.homeStatus, "services.ssh.bytesFromClients")! > 50 * 1024 * 1024)
    }

    @Test func aThousandConcurrentClientsEachGetTheirOwnBytesBack() throws {
        let service = try TestService(.echo)
        let tunnel = try TunnelFixture.running(service, limits: ["connectionsPerClient": 2000, "connections": 4000, "clientWait": 30], pool: ["min": 8, "max": 256])
        defer { tunnel.stop(); service.stop() }
        let results = try EchoLoad.run(port: tunnel.port("echo"), connections: 1000, bytes: 4096, holdOpen: true)
        #expect(results.matched == 1000, "\(results.failures.prefix(5))")
        #expect(number(tunnel.workStatus(), "services.echo.sessions") == 1000)
        // The pool grows exactly when clients found it empty (home asked for connections on demand); how often that
        // happens depends on how fast the clients arrive, so the test checks the rule rather than one timing.
        let status = tunnel.workStatus()
        let target = number(status, "pool.target")!, onDemand = number(status, "openDataRequests")!
        #expect((target > 8) == (onDemand > 0), "pool target \(target) after \(onDemand) on-demand requests")
    }

    @Test func tenThousandShortConnectionsLeaveNoDescriptorsOrMemoryBehind() throws {
        let service = try TestService(.echo)
        let tunnel = try TunnelFixture.running(service, limits: ["connectionsPerClient": 1000, "clientWait": 30], pool: ["min": 4, "max": 64])
        defer { tunnel.stop(); service.stop() }
        let home = tunnel.home!.pid, work = tunnel.works["w1"]!.pid

        // Settled: no client left, and the pool's refill over (work opens the replacements a few milliseconds
        // after each client, and home counts a data connection as idle only once it is authenticated), so that the
        // idle connections subtracted below are all the data connections there are.
        func settle() {
            _ = eventually(5) {
                let work = tunnel.workStatus()
                return number(tunnel.homeStatus, "connections") == 0 && number(work, "services.echo.active") == 0
                    && number(work, "pool.opening") == 0
                    && number(tunnel.homeStatus, "agents.w1.idleDataConnections") == number(work, "pool.idle")
            }
        }
        var warm = try EchoLoad.run(port: tunnel.port("echo"), connections: 1000, bytes: 16, parallel: 16)
        #expect(warm.matched == 1000)
        settle()
        // The warm pool may grow with the demand (within its maximum): its idle connections are not leaks, so
        // each side's descriptors are counted without them.
        func idle() -> (home: Int, work: Int) {
            (number(tunnel.homeStatus, "agents.w1.idleDataConnections") ?? 0, number(tunnel.workStatus(), "pool.idle") ?? 0)
        }
        let idleBefore = idle()
        var before = (ProcessProbe(home), ProcessProbe(work))
        before.0.descriptors -= idleBefore.home
        before.1.descriptors -= idleBefore.work
        warm = try EchoLoad.run(port: tunnel.port("echo"), connections: 10_000, bytes: 16, parallel: 16)
        #expect(warm.matched == 10_000, "\(warm.failures.prefix(5))")
        settle()
        let idleAfter = idle()
        var after = (ProcessProbe(home), ProcessProbe(work))
        after.0.descriptors -= idleAfter.home
        after.1.descriptors -= idleAfter.work
        for (name, b, a) in [("home", before.0, after.0), ("work", before.1, after.1)] {
            #expect(a.descriptors <= b.descriptors + 8, "\(name): \(b.descriptors) descriptors before, \(a.descriptors) after")
            #expect(a.rssKB <= b.rssKB + 8 * 1024, "\(name): RSS \(b.rssKB) kB before, \(a.rssKB) kB after")
        }
    }
}

func urandom(_ count: Int) throws -> [UInt8] {
    let handle = try FileHandle(forReadingFrom: URL(fileURLWithPath: "/dev/urandom"))
    defer { try? handle.close() }
    return Array(try handle.read(upToCount: count) ?? Data())
}

/// Open descriptors and resident memory of a process, from /proc.
struct ProcessProbe {
    var descriptors: Int
    var rssKB: Int

    init(_ pid: pid_t) {
        descriptors = (try? FileManager.default.contentsOfDirectory(atPath: "/proc/\(pid)/fd").count) ?? -1
        let status = (try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8)) ?? ""
        rssKB = status.split(separator: "\n").first { $0.hasPrefix("VmRSS:") }
            .flatMap { Int($0.split(separator: " ", omittingEmptySubsequences: true)[1]) } ?? -1
    }
}

/// Many echo clients on NIO: each connects, sends its own random bytes, and checks it gets exactly them back.
enum EchoLoad {
    struct Results {
        var matched = 0
        var failures: [String] = []
    }

    /// `holdOpen`: every connection stays open until all have been checked (all concurrent); otherwise at most
    /// `parallel` run at a time and each closes when done.
    static func run(port: Int, connections: Int, bytes: Int, holdOpen: Bool = false, parallel: Int = 1000) throws -> Results {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 2)
        defer { try? group.syncShutdownGracefully() }
        let results = Mutex(Results())
        let bootstrap = ClientBootstrap(group: group).connectTimeout(.seconds(10))
        var started = 0
        var pending: [EventLoopFuture<Channel>] = []
        var open: [Channel] = []
        while started < connections {
            let batch = min(parallel, connections - started)
            var futures: [EventLoopFuture<Void>] = []
            for _ in 0..<batch {
                let payload = randomBytes(bytes)
                let done = group.next().makePromise(of: Void.self)
                let connected = bootstrap.channelInitializer { channel in
                    channel.eventLoop.makeCompletedFuture {
                        try channel.pipeline.syncOperations.addHandler(EchoCheck(payload: payload, done: done, close: !holdOpen))
                    }
                }.connect(host: "127.0.0.1", port: port)
                connected.whenFailure { done.fail($0) }
                pending.append(connected)
                futures.append(done.futureResult)
            }
            started += batch
            for future in futures {
                do {
                    try future.timeout(seconds: 60).wait()
                    results.withLock { $0.matched += 1 }
                } catch {
                    results.withLock { $0.failures.append("\(error)") }
                }
            }
            if holdOpen { open += pending.compactMap { try? $0.wait() } }
            pending = []
        }
        for channel in open { try? channel.close().wait() }
        return results.withLock { $0 }
    }
}

extension EventLoopFuture {
    func timeout(seconds: Int64) -> EventLoopFuture<Value> {
        let promise = eventLoop.makePromise(of: Value.self)
        let timer = eventLoop.scheduleTask(in: .seconds(seconds)) { promise.fail(TunnelTestError("timed out")) }
        cascade(to: promise)
        promise.futureResult.whenComplete { _ in timer.cancel() }
        return promise.futureResult
    }
}

private final class EchoCheck: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    let payload: [UInt8]
    let done: EventLoopPromise<Void>
    let close: Bool
    var received: [UInt8] = []

    init(payload: [UInt8], done: EventLoopPromise<Void>, close: Bool) {
        self.payload = payload
        self.done = done
        self.close = close
    }

    func channelActive(context: ChannelHandlerContext) {
        context.writeAndFlush(NIOAny(context.channel.allocator.buffer(bytes: payload)), promise: nil)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        var buffer = unwrapInboundIn(data)
        received += buffer.readBytes(length: buffer.readableBytes)!
        if received.count >= payload.count {
            if received == payload {
                done.succeed(())
            } else {
                let first = zip(received, payload).enumerated().first { $0.element.0 != $0.element.1 }?.offset
                done.fail(TunnelTestError("different bytes came back: \(received.count) bytes for \(payload.count) sent, first difference at \(first.map(String.init) ?? "none (extra bytes)")"))
            }
            if close { context.close(promise: nil) }
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        done.fail(TunnelTestError("closed after \(received.count) of \(payload.count) bytes"))
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        done.fail(error)
        context.close(promise: nil)
    }
}

/// An OpenSSH server on loopback for the tunnel to reach, with its own host key and one authorized client key;
/// `run` uses the OpenSSH client through a given port with strict host key checking.
final class TunnelSSHD: @unchecked Sendable {
    // @unchecked: immutable after init; stop() is called once by the owning test.
    let folder: TemporaryFolder
    let port: Int
    private let daemon: Daemon

    init() throws {
        folder = try TemporaryFolder("ftun-sshd")
        try FileManager.default.createDirectory(atPath: "/run/sshd", withIntermediateDirectories: true)
        for (name, comment) in [("host", "ftun-host"), ("client", "ftun-client")] {
            let made = try runProcess("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-C", comment, "-f", folder.path(name)])
            guard made.status == 0 else { throw TunnelTestError("ssh-keygen: \(made.stderrText)") }
        }
        try FileManager.default.copyItem(atPath: folder.path("client.pub"), toPath: folder.path("authorized_keys"))
        port = try freePort()
        let config = """
            Port \(port)
            ListenAddress 127.0.0.1
            HostKey \(folder.path("host"))
            PidFile \(folder.path("sshd.pid"))
            AuthorizedKeysFile \(folder.path("authorized_keys"))
            UsePAM no
            StrictModes no
            PermitRootLogin prohibit-password
            PasswordAuthentication no
            KbdInteractiveAuthentication no
            UseDNS no
            SetEnv HOME=\(folder.url.path)
            """
        try config.write(toFile: folder.path("sshd_config"), atomically: true, encoding: .utf8)
        daemon = try Daemon(try which("sshd"), ["-D", "-e", "-f", folder.path("sshd_config")], logPath: folder.path("sshd.log"))
        let pidFile = folder.path("sshd.pid")
        guard eventually(10, { FileManager.default.fileExists(atPath: pidFile) || !daemon.isRunning }), daemon.isRunning else {
            throw TunnelTestError("sshd did not start: \((try? String(contentsOfFile: folder.path("sshd.log"), encoding: .utf8)) ?? "")")
        }
        let hostKey = try String(contentsOfFile: folder.path("host.pub"), encoding: .utf8).split(separator: " ").prefix(2).joined(separator: " ")
        try "* \(hostKey)\n".write(toFile: folder.path("known_hosts"), atomically: true, encoding: .utf8)
    }

    func run(port: Int, _ command: String, stdin: Data? = nil) throws -> ProcessResult {
        try runProcess("ssh", [
            "-F", "/dev/null", "-p", String(port), "-i", folder.path("client"), "-o", "IdentitiesOnly=yes",
            "-o", "BatchMode=yes", "-o", "StrictHostKeyChecking=yes", "-o", "UserKnownHostsFile=\(folder.path("known_hosts"))",
            "-o", "ConnectTimeout=10", "root@127.0.0.1", command,
        ], environment: ["HOME": folder.url.path, "PATH": "/usr/bin:/bin:/usr/sbin:/sbin"], stdin: stdin ?? Data(), timeout: 120)
    }

    var logTail: String {
        ((try? String(contentsOfFile: folder.path("sshd.log"), encoding: .utf8)) ?? "").split(separator: "\n").suffix(20).joined(separator: "\n")
    }

    func stop() {
        daemon.stop()
        folder.remove()
    }
}
