import FWPolicy
import Foundation

/// The lab's keys and the client files that trust them: a client key every host accepts, a host key per host, and
/// the known_hosts and ssh_config fwctl and OpenSSH read inside `lab run` (the lab's home folder, `home/.ssh`).
enum LabKeys {
    static func homeDirectory(_ lab: LabName) -> String { lab.stateDirectory + "/home" }
    static func sshDirectory(_ lab: LabName) -> String { homeDirectory(lab) + "/.ssh" }
    static func clientKey(_ lab: LabName) -> String { sshDirectory(lab) + "/id_ed25519" }
    static func knownHosts(_ lab: LabName) -> String { sshDirectory(lab) + "/known_hosts" }
    static func sshConfig(_ lab: LabName) -> String { sshDirectory(lab) + "/config" }
    static func authorizedKeys(_ lab: LabName) -> String { lab.stateDirectory + "/authorized_keys" }

    /// Makes the client key (once per lab) and the file every lab sshd reads the authorised keys from.
    static func makeClientKey(_ lab: LabName) throws(LabError) {
        let key = clientKey(lab)
        try LabFiles.makeDirectory(homeDirectory(lab), mode: 0o700)
        try LabFiles.makeDirectory(sshDirectory(lab), mode: 0o700)
        if !FileManager.default.fileExists(atPath: key) {
            try generate(key, comment: "fwctl lab \(lab) client")
        }
        guard let publicKey = LabFiles.read(key + ".pub") else { throw LabError("cannot read \(key).pub") }
        // Readable by everyone: sshd reads it as the user logging in. It holds only the public key.
        try LabFiles.write(publicKey, to: authorizedKeys(lab), mode: 0o644)
    }

    /// An ed25519 key without a passphrase (the private half 0600).
    static func generate(_ path: String, comment: String) throws(LabError) {
        try? FileManager.default.removeItem(atPath: path)
        try? FileManager.default.removeItem(atPath: path + ".pub")
        try LabProcess.check(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", comment, "-f", path])
    }

    /// The names fwctl and ssh look a host's key up under: its inventory name and each address, as
    /// `[name]:port` when the port is not 22.
    static func knownHostNames(_ plan: LabHostPlan) -> [String] {
        var names = [plan.name] + plan.addresses
        if plan.port != 22 { names = names.map { "[\($0)]:\(plan.port)" } }
        var seen = Set<String>()
        return names.filter { seen.insert($0).inserted }
    }

    /// Rewrites known_hosts and ssh_config for the hosts that are up.
    static func writeClientFiles(_ lab: LabName, hosts: [LabState.Host]) throws(LabError) {
        var knownHosts = "# Host keys of lab \(lab), written by fwctl lab up.\n"
        var config = "# ssh_config of lab \(lab), written by fwctl lab up: `ssh HOST` reaches a lab host by its inventory name.\n"
        for host in hosts.sorted(by: { $0.index < $1.index }) {
            let files = LabHostFiles(lab: lab, host: host)
            guard let line = LabFiles.read(files.hostKey + ".pub") else { continue }
            let fields = line.split(separator: " ")
            guard fields.count >= 2 else { continue }
            knownHosts += "\(knownHostNames(host.plan).joined(separator: ",")) \(fields[0]) \(fields[1])\n"
            if LabName.isPlainHostName(host.plan.name), let address = host.plan.addresses.first {
                config += "\nHost \(host.plan.name)\n  HostName \(address)\n  Port \(host.plan.port)\n  User \(host.plan.user ?? "root")\n"
            }
        }
        config += """

            Host *
              IdentityFile \(clientKey(lab))
              IdentitiesOnly yes
              UserKnownHostsFile \(Self.knownHosts(lab))
              StrictHostKeyChecking yes
              ConnectTimeout 10

            """
        try LabFiles.write(knownHosts, to: Self.knownHosts(lab), mode: 0o644)
        try LabFiles.write(config, to: sshConfig(lab), mode: 0o644)
    }
}
