import Foundation
import FWTunnel
import Synchronization
import TestSupport
import Testing

struct TunnelTestError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

/// home's TLS certificate and key, made once per test process with the openssl CLI.
enum TestCertificate {
    private static let made = Mutex<(cert: String, key: String)?>(nil)

    static func files() throws -> (cert: String, key: String) {
        try made.withLock { made in
            if let made { return made }
            let dir = FileManager.default.temporaryDirectory.appendingPathComponent("ftun-cert-\(getpid())").path
            try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
            let files = (cert: "\(dir)/home.crt", key: "\(dir)/home.key")
            let result = try runProcess("openssl", ["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
                                                    "-keyout", files.key, "-out", files.cert, "-days", "2", "-subj", "/CN=fwtunnel-test-home"])
            guard result.status == 0 else { throw TunnelTestError("openssl req failed: \(result.stderrText)") }
            chmod(files.key, 0o600)
            atexit { try? FileManager.default.removeItem(atPath: FileManager.default.temporaryDirectory.appendingPathComponent("ftun-cert-\(getpid())").path) }
            made = files
            return files
        }
    }
}

/// A port the kernel says is free right now on loopback.
func freePort() throws -> Int {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    defer { close(fd) }
    guard fd >= 0, let port = bindLoopback(fd) else { throw TunnelTestError("cannot bind: \(errno)") }
    return port
}

/// Polls `condition` every 20 ms until it holds or `seconds` pass.
func eventually(_ seconds: Double = 10, _ condition: () throws -> Bool) rethrows -> Bool {
    let until = Date().addingTimeInterval(seconds)
    while Date() < until {
        if try condition() { return true }
        usleep(20_000)
    }
    return try condition()
}

/// The JSON a status socket answers.
func readStatus(_ path: String) -> [String: Any]? {
    let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
    guard fd >= 0 else { return nil }
    defer { close(fd) }
    var address = sockaddr_un()
    address.sun_family = sa_family_t(AF_UNIX)
    withUnsafeMutableBytes(of: &address.sun_path) { raw in
        let bytes = Array(path.utf8.prefix(raw.count - 1))
        raw.copyBytes(from: bytes + [0])
    }
    let connected = withUnsafePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) == 0 }
    }
    guard connected else { return nil }
    var data = Data()
    var chunk = [UInt8](repeating: 0, count: 65536)
    while true {
        let n = read(fd, &chunk, chunk.count)
        if n <= 0 { break }
        data.append(contentsOf: chunk[0..<n])
    }
    return (try? JSONSerialization.jsonObject(with: data)) as? [String: Any]
}

/// A number at a path of keys in a status document ("services.echo.accepted").
func number(_ status: [String: Any]?, _ path: String) -> Int? {
    var value: Any? = status
    for key in path.split(separator: ".") { value = (value as? [String: Any])?[String(key)] }
    return (value as? NSNumber)?.intValue
}

func flag(_ status: [String: Any]?, _ path: String) -> Bool? {
    var value: Any? = status
    for key in path.split(separator: ".") { value = (value as? [String: Any])?[String(key)] }
    return (value as? NSNumber)?.boolValue
}

/// One home and its files in a temporary folder; agents are added with `addWork`. `stop()` kills everything and
/// removes the folder (call it in a defer).
final class TunnelFixture: @unchecked Sendable {
    // @unchecked: used by one test at a time; processes are only started and stopped from that test.
    struct ServiceSpec {
        var name: String
        var target: Int
        var proxyProtocol = false
    }

    let folder: TemporaryFolder
    let tls: Bool
    let agentPort: Int
    var clientPorts: [String: Int] = [:]
    let services: [ServiceSpec]
    var home: Daemon?
    var works: [String: Daemon] = [:]
    var homeOptions: [String: Any] = [:]
    /// Keys added to every work config this fixture writes.
    var workOptions: [String: Any] = [:]

    /// Rewrites home's config with `key` set (takes effect at the next startHome).
    func setHomeOption(_ key: String, _ value: Any) throws {
        homeOptions[key] = value
        try JSONSerialization.data(withJSONObject: homeOptions, options: [.prettyPrinted]).write(to: URL(fileURLWithPath: folder.path("home.json")))
    }

    var homeStatusPath: String { folder.path("home.sock") }
    func workStatusPath(_ name: String) -> String { folder.path("work-\(name).sock") }
    var allowlistPath: String { folder.path("allowlist") }
    var secretPath: String { folder.path("secret") }

    static var homeBinary: String { RepoPaths.products.appendingPathComponent("fwtunnel-home").path }
    static var workBinary: String { RepoPaths.products.appendingPathComponent("fwtunnel-work").path }

    init(tls: Bool = false, services: [ServiceSpec], allow: [String] = ["127.0.0.1", "::1"],
         limits: [String: Any] = [:], heartbeat: [String: Any] = ["interval": 0.5, "timeout": 5]) throws {
        try Integration.require(.path(Self.homeBinary), .command("openssl"))
        folder = try TemporaryFolder("ftun")
        self.tls = tls
        self.services = services
        agentPort = try freePort()
        for service in services { clientPorts[service.name] = try freePort() }
        try Data((0..<32).map { _ in UInt8.random(in: 0x61...0x7A) }).write(to: URL(fileURLWithPath: secretPath))
        chmod(secretPath, 0o600)
        try writeAllowlist(allow)
        let ports = clientPorts
        var options: [String: Any] = [
            "version": 1,
            "agentListen": "127.0.0.1:\(agentPort)",
            "secretFile": secretPath,
            "allowlistFile": allowlistPath,
            "statusSocket": homeStatusPath,
            "services": services.map { ["name": $0.name, "listen": "127.0.0.1:\(ports[$0.name]!)", "probeSocket": folder.path("probe-\($0.name).sock")] },
            "limits": ["clientWait": 3, "handshakeTimeout": 1].merging(limits) { $1 },
            "heartbeat": heartbeat,
        ]
        if tls {
            let files = try TestCertificate.files()
            options["tls"] = ["certificate": files.cert, "key": files.key]
        } else {
            options["tls"] = false
        }
        homeOptions = options
        try JSONSerialization.data(withJSONObject: options, options: [.prettyPrinted]).write(to: URL(fileURLWithPath: folder.path("home.json")))
    }

    func writeAllowlist(_ entries: [String]) throws {
        try (entries.joined(separator: "\n") + "\n").write(toFile: allowlistPath, atomically: true, encoding: .utf8)
    }

    /// Starts home and waits until its status socket answers.
    func startHome() throws {
        try? FileManager.default.removeItem(atPath: homeStatusPath)
        let daemon = try Daemon(Self.homeBinary, ["--config", folder.path("home.json"), "--log-level", "debug"], logPath: folder.path("home.log"))
        home = daemon
        guard eventually(10, { readStatus(homeStatusPath) != nil || !daemon.isRunning }), daemon.isRunning else {
            throw TunnelTestError("fwtunnel-home did not start:\n\(log("home"))")
        }
    }

    /// Writes work's config (each service of the fixture, or those named) and starts it; waits until it is
    /// connected to home unless `waitConnected` is false.
    func startWork(_ name: String = "w1", secretPath: String? = nil, pool: [String: Any] = ["min": 2, "max": 8],
                   waitConnected: Bool = true, homePort: Int? = nil, fingerprint: String? = nil) throws {
        var options: [String: Any] = [
            "version": 1, "name": name, "home": "127.0.0.1:\(homePort ?? agentPort)",
            "secretFile": secretPath ?? self.secretPath, "statusSocket": workStatusPath(name),
            "services": services.map { ["name": $0.name, "target": "127.0.0.1:\($0.target)", "proxyProtocol": $0.proxyProtocol] },
            "pool": pool, "reconnect": ["initial": 0.05, "maximum": 0.5],
            "heartbeat": ["interval": 0.5, "timeout": 5], "connectTimeout": 5,
        ]
        if tls {
            let print = try runProcess(Self.homeBinary, ["--config", folder.path("home.json"), "--print-fingerprint"])
            options["tls"] = ["fingerprint": fingerprint ?? print.stdoutText.trimmingCharacters(in: .whitespacesAndNewlines)]
        } else {
            options["tls"] = false
        }
        options.merge(workOptions) { $1 }
        let config = folder.path("work-\(name).json")
        try JSONSerialization.data(withJSONObject: options, options: [.prettyPrinted]).write(to: URL(fileURLWithPath: config))
        try? FileManager.default.removeItem(atPath: workStatusPath(name))
        let daemon = try Daemon(Self.workBinary, ["--config", config, "--log-level", "debug"], logPath: folder.path("work-\(name).log"))
        works[name] = daemon
        if waitConnected {
            guard eventually(10, { flag(readStatus(workStatusPath(name)), "connected") == true && number(readStatus(workStatusPath(name)), "pool.idle")! >= (pool["min"] as? Int ?? 0) }) else {
                throw TunnelTestError("fwtunnel-work \(name) did not connect:\n\(log("work-\(name)"))\n\(log("home"))")
            }
        }
    }

    var homeStatus: [String: Any]? { readStatus(homeStatusPath) }
    func workStatus(_ name: String = "w1") -> [String: Any]? { readStatus(workStatusPath(name)) }

    func log(_ name: String) -> String {
        (try? String(contentsOfFile: folder.path("\(name).log"), encoding: .utf8)) ?? ""
    }

    func port(_ service: String) -> Int { clientPorts[service]! }

    /// `fwtunnel-home --probe SERVICE` against this fixture's home.
    func probe(_ service: String) throws -> ProcessResult {
        try runProcess(Self.homeBinary, ["--config", folder.path("home.json"), "--probe", service], timeout: 30)
    }

    /// For a failure message: where the bytes of each service got to on each side, and the end of each log.
    func diagnosis(services: [String]) -> String {
        var lines: [String] = []
        for service in services {
            let home = homeStatus, work = workStatus()
            lines.append("\(service): home from clients \(number(home, "services.\(service).bytesFromClients") ?? -1), to clients \(number(home, "services.\(service).bytesToClients") ?? -1); work to service \(number(work, "services.\(service).bytesToService") ?? -1), from service \(number(work, "services.\(service).bytesFromService") ?? -1)")
        }
        for name in ["home"] + works.keys.sorted().map({ "work-\($0)" }) {
            lines.append("--- \(name).log (last 30 lines)")
            lines.append(log(name).split(separator: "\n").suffix(30).joined(separator: "\n"))
        }
        return lines.joined(separator: "\n")
    }

    /// `service` behind a started home and a started work "w1" serving it as `name`: the arrangement most tests
    /// start from. Stop both in a defer (`tunnel.stop(); service.stop()`); on failure here both are stopped.
    static func running(_ service: TestService, name: String = "echo", tls: Bool = false, proxyProtocol: Bool = false,
                        allow: [String] = ["127.0.0.1", "::1"], limits: [String: Any] = [:],
                        pool: [String: Any] = ["min": 2, "max": 8]) throws -> TunnelFixture {
        do {
            let tunnel = try TunnelFixture(tls: tls, services: [.init(name: name, target: service.port, proxyProtocol: proxyProtocol)],
                                           allow: allow, limits: limits)
            do {
                try tunnel.startHome()
                try tunnel.startWork(pool: pool)
            } catch {
                tunnel.stop()
                throw error
            }
            return tunnel
        } catch {
            service.stop()
            throw error
        }
    }

    func stop() {
        for daemon in works.values { daemon.stop() }
        home?.stop()
        folder.remove()
    }
}
