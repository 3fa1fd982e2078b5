import FWPolicy
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// One lab host's folder under the lab's state: its host key, its sshd_config, the script that starts its sshd
/// with private copies of the machine's folders, and the writable layers of those copies.
///
/// The copies are overlay mounts inside the host's own mount namespace (the machine's folder below, the host's
/// layer above), so a deploy into one host writes only that host's layer: /etc (iptables, ufw, nftables, fwctl,
/// sudoers.d, systemd units, default/ufw), /var (lib/fwctl, backups), /usr/local, /home, /root, /opt and /srv; /tmp
/// is a fresh tmpfs. Nothing of it is visible to the machine or to another host.
struct LabHostFiles: Sendable {
    /// Folders every host gets a private copy of (those the machine has).
    static let privateFolders = ["/etc", "/var", "/usr/local", "/home", "/root", "/opt", "/srv"]

    let directory: String
    let host: LabState.Host
    let lab: LabName

    init(lab: LabName, host: LabState.Host) {
        self.lab = lab
        self.host = host
        directory = "\(lab.stateDirectory)/hosts/\(host.index)"
    }

    var hostKey: String { directory + "/ssh_host_ed25519_key" }
    var sshdConfig: String { directory + "/sshd_config" }
    var startScript: String { directory + "/start.sh" }
    var log: String { directory + "/sshd.log" }

    static func folders() -> [String] {
        privateFolders.filter { path in
            var info = stat()
            return lstat(path, &info) == 0 && (info.st_mode & S_IFMT) == S_IFDIR
        }
    }

    private func layer(_ folder: String) -> String {
        "\(directory)/fs/\(folder.dropFirst().replacingOccurrences(of: "/", with: "_"))"
    }

    /// Writes everything but the host key (made in parallel for all hosts by `LabKeys`).
    func write(accounts: LabAccounts, authorizedKeys: String) throws(LabError) {
        try LabFiles.makeDirectory(directory, mode: 0o700)
        for folder in Self.folders() {
            var info = stat()
            guard stat(folder, &info) == 0 else { continue }
            try LabFiles.makeDirectory(layer(folder) + "/work", mode: 0o700)
            try LabFiles.makeDirectory(layer(folder) + "/upper", mode: info.st_mode & 0o7777)
            chown(layer(folder) + "/upper", info.st_uid, info.st_gid)
        }
        let etc = layer("/etc") + "/upper"
        if let files = accounts.files(for: host.plan.user), let user = host.plan.user, let account = accounts.accounts[user] {
            try LabFiles.write(files.passwd, to: etc + "/passwd")
            try LabFiles.write(files.group, to: etc + "/group")
            try LabFiles.write(files.shadow, to: etc + "/shadow", mode: 0o640)
            chown(etc + "/shadow", 0, gid_t(accounts.shadowGID))
            try LabFiles.makeDirectory(etc + "/sudoers.d", mode: 0o755)
            try LabFiles.write("# fwctl lab \(lab): \(user) may run anything as root without a password, as on the fleet.\n"
                               + "\(user) ALL=(ALL:ALL) NOPASSWD: ALL\n", to: etc + "/sudoers.d/fwctl-lab", mode: 0o440)
            let homeUpper = account.home.hasPrefix("/home/") ? layer("/home") + "/upper" : layer("/var") + "/upper/home"
            let home = homeUpper + "/" + user
            try LabFiles.makeDirectory(home, mode: 0o700)
            chown(home, uid_t(account.uid), gid_t(account.gid))
        }
        if LabName.isPlainHostName(host.plan.name) {
            let hosts = LabFiles.read("/etc/hosts") ?? "127.0.0.1 localhost\n"
            try LabFiles.write(hosts + (hosts.hasSuffix("\n") ? "" : "\n") + "127.0.1.1 \(host.plan.name)\n", to: etc + "/hosts")
            try LabFiles.write(host.plan.name + "\n", to: etc + "/hostname")
        }
        try LabFiles.write(sshdConfigText(), to: sshdConfig, mode: 0o600)
        try LabFiles.write(startScriptText(), to: startScript, mode: 0o700)
    }

    func sshdConfigText() -> String {
        var text = "# sshd of lab \(lab) host \(host.plan.name), written by fwctl lab up.\n"
        for address in host.plan.networks {
            text += address.family == .v4
                ? "ListenAddress \(address.addressText):\(host.plan.port)\n"
                : "ListenAddress [\(address.addressText)]:\(host.plan.port)\n"
        }
        // Loopback too, as a real sshd listens: a tunnel's service is often 127.0.0.1:22 as seen from its work host.
        text += "ListenAddress 127.0.0.1:\(host.plan.port)\n"
        text += """
            HostKey \(hostKey)
            PidFile \(directory)/sshd.pid
            AuthorizedKeysFile \(lab.stateDirectory)/authorized_keys
            PermitRootLogin prohibit-password
            PubkeyAuthentication yes
            PasswordAuthentication no
            KbdInteractiveAuthentication no
            UsePAM no
            StrictModes no
            UseDNS no
            PrintMotd no
            AllowTcpForwarding yes
            MaxStartups 200:30:400
            MaxSessions 64
            LogLevel INFO
            Subsystem sftp internal-sftp

            """
        return text
    }

    func startScriptText() -> String {
        var text = """
            #!/bin/sh
            # Lab \(lab), host \(host.plan.name): private copies of the folders a deploy writes, then its sshd.
            # Run by fwctl lab up inside the host's network namespace and a mount and UTS namespace of its own.
            set -e

            """
        for folder in Self.folders() {
            text += "mount -t overlay fwctl-lab -o lowerdir=\(folder),upperdir=\(layer(folder))/upper,workdir=\(layer(folder))/work \(folder)\n"
        }
        text += "mount -t tmpfs -o mode=1777,size=256m fwctl-lab /tmp\n"
        if LabName.isPlainHostName(host.plan.name) { text += "hostname \(host.plan.name)\n" }
        text += "mkdir -p /run/sshd\n"
        // -r: no re-exec of sshd for each connection (a fork only). A probe makes thousands of connections to the SSH
        // ports at once, and an exec of sshd each made it three times slower; a lab does not need a fresh address
        // space layout per session.
        text += "exec /usr/sbin/sshd -D -e -r -f \(sshdConfig)\n"
        return text
    }

    /// Starts the host's sshd and returns its pid (the exec chain ip -> unshare -> sh -> sshd keeps one pid).
    func startSSHD() throws(LabError) -> pid_t {
        try LabProcess.spawnDaemon(["ip", "netns", "exec", host.namespace, "unshare", "--mount", "--uts", "--propagation", "private",
                                    "/bin/sh", startScript], logFile: log)
    }

    /// True when `pid` is this host's running sshd (not a process that got the number after it ended): its program
    /// is sshd and it lives in the host's network namespace. (Its command line is no proof: sshd rewrites it.)
    static func isSSHD(_ pid: Int32, namespace: String) -> Bool {
        guard !LabNetwork.isZombie(pid),
              let program = try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/\(pid)/exe"),
              program.hasSuffix("/sshd") else { return false }
        var own = stat(), host = stat()
        return stat("/proc/\(pid)/ns/net", &own) == 0 && stat("/run/netns/\(namespace)", &host) == 0 && own.st_ino == host.st_ino
    }
}
