import Foundation

/// A throwaway network of namespaces for integration tests: one "switch" namespace holding a bridge, and one
/// namespace per host, each with an `eth0` plugged into the bridge. Nothing touches the machine's own network.
///
/// Names carry the test process id, so namespaces left by a killed earlier run are recognised and removed.
/// Call `shutdown()` in a `defer`; it kills every process inside the namespaces and deletes them.
public final class NetworkLab: @unchecked Sendable {
    public struct Host: Sendable {
        public var name: String
        public var namespace: String
        public var ipv4: String?
        public var ipv6: String?
    }

    private static let prefix = "fwt"
    /// Programs run in namespaces come from the system folders, whatever PATH the test runner has.
    public static let path = "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

    public let id: String
    public let switchNamespace: String
    private let lock = NSLock()
    private var hostList: [Host] = []
    private var etcDirs: [String] = []
    private var closed = false

    public var hosts: [Host] { lock.withLock { hostList } }

    /// Creates the switch namespace and its bridge. Requires root and iproute2.
    public init() throws {
        Self.removeStaleNamespaces()
        id = "\(Self.prefix)\(getpid())x\(UniqueNumber.next())"
        switchNamespace = "\(id)-sw"
        try Self.ip(["netns", "add", switchNamespace])
        do {
            try Self.ip(["-n", switchNamespace, "link", "add", "br0", "type", "bridge"])
            try Self.ip(["-n", switchNamespace, "link", "set", "br0", "up"])
            try Self.ip(["-n", switchNamespace, "link", "set", "lo", "up"])
        } catch {
            shutdown()
            throw error
        }
    }

    deinit { shutdown() }

    /// Adds a host namespace with `eth0` on the bridge and the given addresses (`10.77.0.2/24`, `fd77::2/64`).
    @discardableResult
    public func addHost(_ name: String, ipv4: String? = nil, ipv6: String? = nil) throws -> Host {
        let index = lock.withLock { hostList.count }
        let namespace = "\(id)-\(name)"
        let outside = "\(id)v\(index)".suffix(15)  // interface names are at most 15 bytes
        try Self.ip(["netns", "add", namespace])
        let host = Host(name: name, namespace: namespace,
                        ipv4: ipv4.map { String($0.split(separator: "/")[0]) },
                        ipv6: ipv6.map { String($0.split(separator: "/")[0]) })
        lock.withLock { hostList.append(host) }
        try Self.ip(["link", "add", "eth0", "netns", namespace, "type", "veth", "peer", "name", String(outside), "netns", switchNamespace])
        try Self.ip(["-n", switchNamespace, "link", "set", String(outside), "master", "br0", "up"])
        try Self.ip(["-n", namespace, "link", "set", "lo", "up"])
        try Self.ip(["-n", namespace, "link", "set", "eth0", "up"])
        if let ipv4 { try Self.ip(["-n", namespace, "addr", "add", ipv4, "dev", "eth0"]) }
        if let ipv6 { try Self.ip(["-n", namespace, "-6", "addr", "add", ipv6, "dev", "eth0", "nodad"]) }
        return host
    }

    /// Adds a namespace that is not on the bridge (a container behind a lab host, say); link it yourself. It is
    /// cleaned up with the others.
    @discardableResult
    public func addIsolatedHost(_ name: String) throws -> Host {
        let namespace = "\(id)-\(name)"
        try Self.ip(["netns", "add", namespace])
        let host = Host(name: name, namespace: namespace, ipv4: nil, ipv6: nil)
        lock.withLock { hostList.append(host) }
        try Self.ip(["-n", namespace, "link", "set", "lo", "up"])
        return host
    }

    /// Runs a program inside a host's namespace.
    @discardableResult
    public func run(_ host: Host, _ arguments: [String], stdin: Data? = nil, timeout: TimeInterval = 30) throws -> ProcessResult {
        try runProcess("/usr/bin/env", [Self.path, "ip", "netns", "exec", host.namespace] + arguments, stdin: stdin, timeout: timeout)
    }

    /// Like `run`, but throws with the command's stderr unless it exits 0.
    @discardableResult
    public func check(_ host: Host, _ arguments: [String], stdin: Data? = nil, timeout: TimeInterval = 30) throws -> ProcessResult {
        let result = try run(host, arguments, stdin: stdin, timeout: timeout)
        guard result.status == 0, !result.timedOut else {
            throw ProcessRunnerError(description: "in \(host.name): \(arguments.joined(separator: " ")) exited \(result.status): \(result.stderrText)")
        }
        return result
    }

    /// Starts a long-running program inside a host's namespace (a listener, a daemon). It is killed by
    /// `shutdown()` with everything else in the namespace; its output is discarded.
    @discardableResult
    public func spawn(_ host: Host, _ arguments: [String]) throws -> Process {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = [Self.path, "ip", "netns", "exec", host.namespace] + arguments
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        process.standardInput = FileHandle.nullDevice
        try process.run()
        return process
    }

    /// Waits (bounded) until something in the host's namespace listens on the TCP port.
    public func waitForListener(_ host: Host, port: Int, timeout: TimeInterval = 10) throws {
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            let listening = try run(host, ["ss", "-Hltn", "sport = :\(port)"]).stdoutText
            if !listening.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty { return }
            usleep(50_000)
        }
        throw ProcessRunnerError(description: "nothing listens on port \(port) in \(host.name) after \(timeout) s")
    }

    /// Gives a namespace its own copy of a folder under /etc (`ip netns exec` shows /etc/netns/NS/X as /etc/X).
    public func privateEtc(_ host: Host, copying folder: String) throws {
        let base = "/etc/netns/\(host.namespace)"
        try FileManager.default.createDirectory(atPath: base, withIntermediateDirectories: true)
        lock.withLock { etcDirs.append(base) }
        let result = try runProcess("/bin/cp", ["-a", "/etc/\(folder)", "\(base)/\(folder)"])
        guard result.status == 0 else { throw ProcessRunnerError(description: "cp /etc/\(folder): \(result.stderrText)") }
    }

    /// Kills every process in the lab's namespaces and deletes them. Safe to call more than once.
    public func shutdown() {
        let namespaces: [String] = lock.withLock {
            guard !closed else { return [] }
            closed = true
            return hostList.map(\.namespace) + [switchNamespace]
        }
        for namespace in namespaces { Self.destroy(namespace) }
        for dir in lock.withLock({ etcDirs }) { try? FileManager.default.removeItem(atPath: dir) }
    }

    private static func destroy(_ namespace: String) {
        if let pids = try? runProcess("/usr/bin/env", [path, "ip", "netns", "pids", namespace], timeout: 10) {
            for pid in pids.stdoutText.split(separator: "\n").compactMap({ Int32($0) }) { kill(pid, SIGKILL) }
        }
        _ = try? runProcess("/usr/bin/env", [path, "ip", "netns", "del", namespace], timeout: 10)
        try? FileManager.default.removeItem(atPath: "/etc/netns/\(namespace)")
    }

    /// Removes namespaces left by test processes that no longer exist (a crash or a kill -9 skips `defer`).
    private static func removeStaleNamespaces() {
        guard let list = try? runProcess("/usr/bin/env", [path, "ip", "netns", "list"], timeout: 10) else { return }
        for line in list.stdoutText.split(separator: "\n") {
            let name = String(line.split(separator: " ")[0])
            guard name.hasPrefix(prefix), let x = name.dropFirst(prefix.count).firstIndex(of: "x"),
                  let pid = Int32(name.dropFirst(prefix.count)[..<x]) else { continue }
            if pid != getpid() && kill(pid, 0) != 0 && errno == ESRCH { destroy(name) }
        }
    }

    private static func ip(_ arguments: [String]) throws {
        let result = try runProcess("/usr/bin/env", [path, "ip"] + arguments, timeout: 20)
        guard result.status == 0 else {
            throw ProcessRunnerError(description: "ip \(arguments.joined(separator: " ")): \(result.stderrText)")
        }
    }
}
