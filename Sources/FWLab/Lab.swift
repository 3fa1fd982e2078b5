import FWBase
import FWPolicy
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// What `lab up` did.
public struct LabUpReport: Sendable {
    public var added: [String]
    public var removed: [String]
    public var kept: [String]
    public var controllerAddresses: [String]
    public var controllerNamespace: String
}

/// What `lab down` removed.
public struct LabDownReport: Sendable {
    /// False when there was no lab of that name.
    public var existed: Bool
    public var namespaces: Int
    public var hosts: Int
}

/// Builds, updates and removes labs: the inventory's fleet as network-namespace hosts on this machine.
public enum Lab {
    /// How long a new host's sshd may take to answer.
    public static let readyTimeout: Double = 60

    /// Makes the lab match `plan`: creates it, or adds and removes hosts of a lab that is up, leaving the hosts
    /// that did not change (and their sshd) alone. `progress` gets one line per step.
    public static func up(_ lab: LabName, plan: LabPlan, inventory sources: [String], limit: String?,
                          progress: (String) -> Void = { _ in }) throws(LabError) -> LabUpReport {
        try requireRoot()
        try requirePrograms(["ip", "ssh-keygen", "unshare", "mount"] + (plan.hosts.contains { $0.user != nil } ? ["sudo"] : []))
        guard access("/usr/sbin/sshd", X_OK) == 0 else {
            throw LabError("/usr/sbin/sshd is not installed", hint: "apt-get install openssh-server (make deps-test does)")
        }
        try LabStateFolder.create(lab)
        let lock = try LabLock(lab)
        defer { lock.release() }

        var state = try LabState.load(lab) ?? LabState(name: lab.text, inventory: sources, limit: limit,
                                                       switchNamespace: lab.switchNamespace, controller: nil, hosts: [], nextIndex: 0)
        let previousAddresses = Set(state.hosts.flatMap(\.plan.networks) + (state.controller?.addresses ?? []).compactMap { try? IPNetwork(parsing: $0) })
        state.inventory = sources
        state.limit = limit
        try state.save(lab)

        if LabNetwork.existing([state.switchNamespace]).isEmpty {
            progress("creating the switch namespace \(state.switchNamespace)")
            try LabNetwork.createSwitch(state.switchNamespace)
        }
        try LabKeys.makeClientKey(lab)

        // Which hosts stay, which go, which come.
        let wanted = Dictionary(plan.hosts.map { ($0.name, $0) }, uniquingKeysWith: { first, _ in first })
        var kept: [LabState.Host] = []
        var gone: [LabState.Host] = []
        for host in state.hosts {
            if wanted[host.plan.name] == host.plan, let pid = host.sshdPID, LabHostFiles.isSSHD(pid, namespace: host.namespace) {
                kept.append(host)
            } else {
                gone.append(host)
            }
        }
        if !gone.isEmpty {
            progress("removing \(gone.count) host\(gone.count == 1 ? "" : "s")")
            try LabNetwork.remove(gone.map(\.namespace))
            for host in gone { try? FileManager.default.removeItem(atPath: LabHostFiles(lab: lab, host: host).directory) }
            let goneNames = Set(gone.map(\.namespace))
            state.hosts.removeAll { goneNames.contains($0.namespace) }
            try state.save(lab)
        }
        let keptNames = Set(kept.map(\.plan.name))
        var added: [LabState.Host] = []
        for plan in plan.hosts where !keptNames.contains(plan.name) {
            let index = state.nextIndex
            state.nextIndex += 1
            added.append(LabState.Host(plan: plan, index: index, namespace: lab.hostNamespace(host: plan.name, index: index),
                                       link: "h\(index)", sshdPID: nil))
        }
        // Recorded before anything of them exists: a kill from here on leaves nothing `down` does not know of.
        state.hosts += added

        var controllerIsNew = false
        if state.controller?.addresses != plan.controllerAddresses || state.controller?.ready != true
            || LabNetwork.existing([lab.controllerNamespace]).isEmpty {
            if let controller = state.controller { try LabNetwork.remove([controller.namespace]) }
            state.controller = LabState.Controller(namespace: lab.controllerNamespace, link: "c0", addresses: plan.controllerAddresses)
            controllerIsNew = true
        }
        try state.save(lab)

        if !added.isEmpty {
            progress("making \(added.count) host key\(added.count == 1 ? "" : "s") and folders")
            let accounts = LabAccounts(users: Set(added.compactMap(\.plan.user)))
            let authorized = LabFiles.read(LabKeys.authorizedKeys(lab)) ?? ""
            let results = NamespaceThread.map(added, width: 4, namespace: { _ in nil }) { host throws(LabError) in
                let files = LabHostFiles(lab: lab, host: host)
                try files.write(accounts: accounts, authorizedKeys: authorized)
                try LabKeys.generate(files.hostKey, comment: "fwctl lab \(lab) host \(host.plan.name)")
            }
            for case .failure(let error) in results { throw error }
        }

        let controllerNode = state.controller.map {
            LabNetwork.Node(namespace: $0.namespace, link: $0.link, addresses: $0.addresses.compactMap { try? IPNetwork(parsing: $0) },
                            mac: LabNetwork.mac(number: LabNetwork.controllerNumber))
        }
        func node(_ host: LabState.Host) -> LabNetwork.Node {
            LabNetwork.Node(namespace: host.namespace, link: host.link, addresses: host.plan.networks, mac: LabNetwork.mac(number: host.index))
        }
        let allPeers = LabNetwork.peers(of: state.hosts.map(node) + (controllerNode.map { [$0] } ?? []))
        var nodes = added.map(node)
        if controllerIsNew, let controllerNode { nodes.append(controllerNode) }
        if !nodes.isEmpty {
            progress("wiring \(nodes.count) namespace\(nodes.count == 1 ? "" : "s") to the bridge")
            try LabNetwork.add(nodes, switchNamespace: state.switchNamespace, peers: allPeers)
            state.controller?.ready = true
            try state.save(lab)
        }
        // Nodes that stay learn the new (and re-made) peers and forget the gone ones.
        let current = Set(allPeers.map(\.address))
        let goneAddresses = previousAddresses.filter { !current.contains($0) }.sorted()
        let newPeers = LabNetwork.peers(of: nodes)
        var stayingNodes = kept.map(node)
        if !controllerIsNew, let controllerNode { stayingNodes.append(controllerNode) }
        if !newPeers.isEmpty || !goneAddresses.isEmpty {
            let results = NamespaceThread.map(stayingNodes, width: 4, namespace: { _ in nil }) { node throws(LabError) in
                try LabNetwork.update(node, added: newPeers, removed: goneAddresses)
            }
            for case .failure(let error) in results { throw error }
        }

        if !added.isEmpty {
            progress("starting \(added.count) sshd\(added.count == 1 ? "" : "s")")
            for host in added {
                let pid = try LabHostFiles(lab: lab, host: host).startSSHD()
                if let position = state.hosts.firstIndex(where: { $0.namespace == host.namespace }) { state.hosts[position].sshdPID = pid }
            }
            try state.save(lab)
            try waitUntilAnswering(lab, state.hosts.filter { host in added.contains { $0.namespace == host.namespace } })
        }
        try LabKeys.writeClientFiles(lab, hosts: state.hosts)
        try state.save(lab)
        return LabUpReport(added: added.map(\.plan.name), removed: gone.map(\.plan.name).filter { wanted[$0] == nil },
                           kept: kept.map(\.plan.name), controllerAddresses: plan.controllerAddresses,
                           controllerNamespace: lab.controllerNamespace)
    }

    /// Waits, bounded, until each host's sshd accepts connections on its first address (from inside the host, so
    /// its own firewall cannot hide it); fails with the sshd's log when one ends or never answers.
    static func waitUntilAnswering(_ lab: LabName, _ hosts: [LabState.Host]) throws(LabError) {
        let deadline = Date().addingTimeInterval(readyTimeout)
        let results = NamespaceThread.map(hosts, width: 64, namespace: { $0.namespace }) { host throws(LabError) in
            let files = LabHostFiles(lab: lab, host: host)
            guard let address = host.plan.networks.first, let pid = host.sshdPID else { return }
            while Date() < deadline {
                if LabSocket.connects(from: nil, to: address, port: UInt16(host.plan.port), timeout: 0.5) { return }
                // It is this process's child: waitpid says when it ended (its start-up chain ip -> unshare -> sh
                // -> sshd keeps the pid).
                var status: Int32 = 0
                if waitpid(pid, &status, WNOHANG) == pid {
                    let log = (LabFiles.read(files.log) ?? "").trimmingCharacters(in: .whitespacesAndNewlines).suffix(1500)
                    throw LabError("the sshd of host '\(host.plan.name)' ended: \(log)")
                }
                usleep(20_000)
            }
            throw LabError("the sshd of host '\(host.plan.name)' does not answer on \(address):\(host.plan.port) after \(Int(readyTimeout)) s",
                           hint: "see \(files.log)")
        }
        for case .failure(let error) in results { throw error }
    }

    /// Removes everything the lab made: processes, namespaces (their links go with them), mounts (they live in the
    /// hosts' own mount namespaces and end with their processes) and the state folder.
    public static func down(_ lab: LabName, progress: (String) -> Void = { _ in }) throws(LabError) -> LabDownReport {
        try requireRoot()
        guard FileManager.default.fileExists(atPath: lab.stateDirectory) else { return LabDownReport(existed: false, namespaces: 0, hosts: 0) }
        let lock = try LabLock(lab)
        defer { lock.release() }
        var namespaces: [String]
        var hosts = 0
        if let state = try? LabState.load(lab) {
            namespaces = state.namespaces
            hosts = state.hosts.count
        } else {
            // No readable state, but the folder says a lab was here: what carries its names is its own.
            namespaces = labNamespacesByName(lab)
        }
        let present = LabNetwork.existing(namespaces)
        progress("removing \(present.count) namespace\(present.count == 1 ? "" : "s") and their processes")
        try LabNetwork.remove(present)
        try LabStateFolder.remove(lab)
        // The parents too, when no other lab is left in them.
        rmdir(LabPaths.root)
        rmdir(PathComponents.folder(of: LabPaths.root))
        return LabDownReport(existed: true, namespaces: present.count, hosts: hosts)
    }

    /// Namespaces named as this lab names them (`LAB.sw`, `LAB.ctl`, `LAB-HOST`, `LAB_hN`).
    static func labNamespacesByName(_ lab: LabName) -> [String] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: "/run/netns")) ?? []
        return names.filter { name in
            guard name.hasPrefix(lab.text), name.count > lab.text.count else { return false }
            let separator = name[name.index(name.startIndex, offsetBy: lab.text.count)]
            return name == lab.switchNamespace || name == lab.controllerNamespace || separator == "-" || name.hasPrefix(lab.text + "_h")
        }
    }

    /// The inventory sources the lab was brought up from, or nil when there is no lab of that name.
    public static func inventorySources(_ lab: LabName) throws(LabError) -> [String]? {
        try LabState.load(lab)?.inventory
    }

    static func requireRoot() throws(LabError) {
        guard geteuid() == 0 else {
            throw LabError("the lab needs root (network namespaces, mounts, an sshd per host)", hint: "run it with sudo")
        }
    }

    static func requirePrograms(_ names: [String]) throws(LabError) {
        let missing = names.filter { LabPaths.program($0) == nil }
        guard missing.isEmpty else {
            throw LabError("the lab needs \(missing.joined(separator: ", ")), which \(missing.count == 1 ? "is" : "are") not installed",
                           hint: "make deps-test installs them")
        }
    }
}

/// One `lab up` or `lab down` at a time per lab (flock on the state folder's `lock`; released when the process
/// ends, however it ends).
struct LabLock {
    let fd: Int32

    init(_ lab: LabName) throws(LabError) {
        let path = lab.stateDirectory + "/lock"
        fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw LabError("cannot open \(path): \(String(cString: strerror(errno)))") }
        guard flock(fd, LOCK_EX | LOCK_NB) == 0 else {
            close(fd)
            throw LabError("another fwctl is working on lab \(lab) right now", hint: "wait for it to finish")
        }
    }

    func release() { close(fd) }
}
