import Foundation

/// Network-namespace hosts that behave like servers for deploy tests: each runs its own OpenSSH sshd (root login
/// with a test key) in a private mount namespace, where /etc and /var/lib are overlays on the machine's own
/// (writes land in the test's folder, never in the machine's files) and /run is a fresh tmpfs. Netfilter rules
/// loaded there stay in the host's network namespace. A controller namespace on the same bridge runs fwctl, so
/// every connection goes to an address inside the lab.
///
/// Call `shutdown()` in a `defer`: it kills every process in the namespaces (sshd, revert timers), which ends
/// their mount namespaces and overlays, deletes the namespaces and removes the folder.
public final class SSHHostLab: @unchecked Sendable {
    public struct SSHHost: Sendable {
        public var name: String
        public var address: String
        public var lab: NetworkLab.Host
        /// The overlay's upper folder for /var/lib: the host's fwctl state is at `varLib + "/fwctl"`.
        public var varLib: String
        /// The overlay's upper folder for /etc: persisted files land here (`etc + "/iptables/rules.v4"`).
        public var etc: String
    }

    public let network: NetworkLab
    public let folder: TemporaryFolder
    public let subnet: String
    public let controller: NetworkLab.Host
    public let clientKey: String
    public let knownHosts: String
    private let lock = NSLock()
    private var hostList: [SSHHost] = []
    private var daemons: [Daemon] = []
    private let hostKey: String

    /// - Parameter subnet: the first three octets of the lab's IPv4 /24; the controller is `.1`.
    public init(subnet: String = "10.61.0") throws {
        network = try NetworkLab()
        do {
            folder = try TemporaryFolder("fwctl-sshlab")
            self.subnet = subnet
            controller = try network.addHost("ctl", ipv4: "\(subnet).1/24")
            hostKey = folder.path("host_ed25519")
            clientKey = folder.path("id_ed25519")
            knownHosts = folder.path("known_hosts")
            for key in [hostKey, clientKey] {
                let made = try runProcess("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-C", "fwctl-lab", "-f", key])
                guard made.status == 0 else { throw ProcessRunnerError(description: "ssh-keygen: \(made.stderrText)") }
            }
            try FileManager.default.copyItem(atPath: clientKey + ".pub", toPath: folder.path("authorized_keys"))
            FileManager.default.createFile(atPath: knownHosts, contents: Data())
            try FileManager.default.createDirectory(atPath: "/run/sshd", withIntermediateDirectories: true)
        } catch {
            network.shutdown()
            throw error
        }
    }

    deinit { shutdown() }

    public var hosts: [SSHHost] { lock.withLock { hostList } }

    public func host(_ name: String) -> SSHHost? { hosts.first { $0.name == name } }

    /// Adds a host at `subnet.number`; with `sshd: false` nothing listens on port 22 (a host that is down for SSH).
    /// `hiding` names programs in /usr/sbin the host does not have (overlay whiteouts), as if never installed.
    @discardableResult
    public func addHost(_ name: String, number: Int, sshd: Bool = true, hiding: [String] = []) throws -> SSHHost {
        let address = "\(subnet).\(number)"
        let labHost = try network.addHost(name, ipv4: "\(address)/24")
        let base = folder.path("hosts/\(name)")
        for sub in ["etc-up", "etc-work", "var-up", "var-work", "sbin-up", "sbin-work", "home"] {
            try FileManager.default.createDirectory(atPath: "\(base)/\(sub)", withIntermediateDirectories: true)
        }
        let host = SSHHost(name: name, address: address, lab: labHost, varLib: "\(base)/var-up", etc: "\(base)/etc-up")
        lock.withLock { hostList.append(host) }
        guard sshd else { return host }

        let config = [
            "Port 22", "ListenAddress 0.0.0.0", "HostKey \(hostKey)", "AuthorizedKeysFile \(folder.path("authorized_keys"))",
            "UsePAM no", "StrictModes no", "PermitRootLogin prohibit-password", "PasswordAuthentication no",
            "KbdInteractiveAuthentication no", "UseDNS no", "PrintMotd no", "PidFile none", "MaxStartups 100",
            "SetEnv HOME=\(base)/home PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
        ].joined(separator: "\n") + "\n"
        try config.write(toFile: "\(base)/sshd_config", atomically: true, encoding: .utf8)
        // A whiteout (a 0:0 character device) in an overlay's upper folder hides the lower file.
        let whiteouts = hiding.map { "mknod \(base)/sbin-up/\($0) c 0 0 && " }.joined()
        let hide = hiding.isEmpty ? "" : "mount -t overlay overlay -o lowerdir=/usr/sbin,upperdir=\(base)/sbin-up,workdir=\(base)/sbin-work /usr/sbin && "
        let mounts = """
            \(whiteouts)\(hide)\
            mount -t overlay overlay -o lowerdir=/etc,upperdir=\(base)/etc-up,workdir=\(base)/etc-work /etc && \
            mount -t overlay overlay -o lowerdir=/var/lib,upperdir=\(base)/var-up,workdir=\(base)/var-work /var/lib && \
            mount -t tmpfs tmpfs /run && mkdir -p /run/sshd && exec "$0" -D -e -f \(base)/sshd_config
            """
        let daemon = try Daemon("/usr/bin/env", [NetworkLab.path, "ip", "netns", "exec", labHost.namespace,
                                                 "unshare", "-m", "--propagation", "private", "sh", "-c", mounts, try which("sshd")],
                                logPath: "\(base)/sshd.log")
        lock.withLock { daemons.append(daemon) }
        try network.waitForListener(labHost, port: 22)
        let publicKey = try String(contentsOfFile: hostKey + ".pub", encoding: .utf8).split(separator: " ").prefix(2).joined(separator: " ")
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: knownHosts))
        handle.seekToEndOfFile()
        handle.write(Data("\(address) \(publicKey)\n".utf8))
        try handle.close()
        return host
    }

    /// The start of an inventory: root login with the lab's key, and the controller in a group `admin`.
    public var inventoryHeader: String {
        """
        all:
          vars:
            ansible_user: root
            ansible_ssh_private_key_file: \(clientKey)
          children:
            admin:
              hosts:
                ctl: {ansible_host: \(subnet).1}
        """
    }

    /// Runs fwctl in the controller namespace (no ssh-agent, HOME in the lab folder) with the lab's known_hosts.
    public func fwctl(_ arguments: [String], timeout: TimeInterval = 180) throws -> ProcessResult {
        try network.run(controller, fwctlCommand(arguments), timeout: timeout)
    }

    /// The command line `fwctl` runs with in the controller namespace (for tests that start it themselves).
    public func fwctlCommand(_ arguments: [String]) -> [String] {
        ["env", "-u", "SSH_AUTH_SOCK", "HOME=\(folder.url.path)", "NO_COLOR=1", "FWCTL_AUDIT_LOG=\(folder.path("audit.jsonl"))",
         RepoPaths.fwctl.path] + arguments
    }

    /// The pids of the host's sshd processes other than the listener: the sessions, i.e. open connections.
    public func sessionProcesses(_ host: SSHHost) throws -> [Int32] {
        let listeners = Set(lock.withLock { daemons.map(\.pid) })
        let pids = try runProcess("/usr/bin/env", [NetworkLab.path, "ip", "netns", "pids", host.lab.namespace]).stdoutText
        return pids.split(separator: "\n").compactMap { Int32($0) }.filter { pid in
            let comm = (try? String(contentsOfFile: "/proc/\(pid)/comm", encoding: .utf8)) ?? ""
            return comm.hasPrefix("sshd") && !listeners.contains(pid)
        }
    }

    /// Processes in the host's namespace running fwctl's revert timer.
    public func revertTimers(_ host: SSHHost) throws -> [Int32] {
        let pids = try runProcess("/usr/bin/env", [NetworkLab.path, "ip", "netns", "pids", host.lab.namespace]).stdoutText
        return pids.split(separator: "\n").compactMap { Int32($0) }.filter { pid in
            let command = (try? String(contentsOfFile: "/proc/\(pid)/cmdline", encoding: .utf8)) ?? ""
            return command.contains("revert.sh")
        }
    }

    public func shutdown() {
        network.shutdown()
        for daemon in lock.withLock({ daemons }) { daemon.stop() }
        folder.remove()
    }
}
