import FWPolicy
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// The lab's wiring: a switch namespace with one bridge, and per node (host or controller) a namespace whose only
/// link, `eth0`, is plugged into it. Nodes get their addresses as /32 and /128 with an on-link host route to every
/// other lab address; there is no default route anywhere, so a packet to any other address fails with "Network is
/// unreachable" and nothing can leave the machine. The bridge has no address and lives outside the machine's own
/// namespace, so nothing forwards between the lab and the machine's network.
///
/// Every node's link has a MAC derived from its lab number, and every node knows the others' as permanent
/// neighbour entries: no ARP or neighbour discovery at all. The kernel's neighbour table is shared by all
/// namespaces (gc_thresh3, 1024 entries by default), which 50 hosts resolving each other overflow, dropping
/// packets; permanent entries are exempt from that limit.
enum LabNetwork {
    /// The name of every node's link inside its namespace.
    static let nodeInterface = "eth0"
    static let bridge = "br0"

    /// A namespace to create and plug in.
    struct Node: Sendable {
        var namespace: String
        /// Its link's name in the switch namespace.
        var link: String
        var addresses: [IPNetwork]
        /// Its `eth0`'s MAC (see `mac(number:)`).
        var mac: String
    }

    /// An address on the bridge and the MAC that answers for it.
    struct Peer: Sendable, Hashable {
        var address: IPNetwork
        var mac: String
    }

    /// A locally administered unicast MAC for a node's lab number (hosts 0..., the controller `controllerNumber`).
    static func mac(number: Int) -> String {
        let value = number & 0xFF_FFFF
        return String(format: "02:00:00:%02x:%02x:%02x", (value >> 16) & 0xFF, (value >> 8) & 0xFF, value & 0xFF)
    }

    static let controllerNumber = 0xFF_FFFE

    static func peers(of nodes: [Node]) -> [Peer] {
        nodes.flatMap { node in node.addresses.map { Peer(address: $0, mac: node.mac) } }
    }

    static func createSwitch(_ namespace: String) throws(LabError) {
        try LabProcess.check(["ip", "-batch", "-"], input: "netns add \(namespace)\n")
        try LabProcess.check(["ip", "-n", namespace, "-batch", "-"], input: """
            link set lo up
            link add \(bridge) type bridge
            link set \(bridge) up

            """)
        // No IPv6 on the bridge: it must not answer or solicit anything itself.
        _ = NamespaceThread.runInNamespace(namespace) { () throws(LabError) in
            try? "1".write(toFile: "/proc/sys/net/ipv6/conf/\(bridge)/disable_ipv6", atomically: false, encoding: .utf8)
        }
    }

    /// Creates the nodes' namespaces and links in two `ip -batch` runs (a few processes for any number of nodes),
    /// then gives each its addresses, and routes and neighbour entries for every peer (its own skipped).
    static func add(_ nodes: [Node], switchNamespace: String, peers: [Peer]) throws(LabError) {
        guard !nodes.isEmpty else { return }
        var root = ""
        var plug = ""
        for node in nodes {
            root += "netns add \(node.namespace)\n"
            root += "link add \(node.link) netns \(switchNamespace) type veth peer name \(nodeInterface) netns \(node.namespace) address \(node.mac)\n"
            plug += "link set \(node.link) master \(bridge) up\n"
        }
        try LabProcess.check(["ip", "-batch", "-"], input: root, timeout: 120)
        try LabProcess.check(["ip", "-n", switchNamespace, "-batch", "-"], input: plug, timeout: 120)
        let results = NamespaceThread.map(nodes, width: 4, namespace: { _ in nil }) { node throws(LabError) in
            try configure(node, peers: peers)
        }
        for case .failure(let error) in results { throw error }
    }

    /// Addresses, links up, and a host route to every other lab address (from the node's own address of that
    /// family; a node without one cannot reach that family at all).
    static func configure(_ node: Node, peers: [Peer]) throws(LabError) {
        var batch = "link set lo up\nlink set \(nodeInterface) up\n"
        for address in node.addresses {
            batch += address.family == .v4
                ? "addr add \(address.cidrText) dev \(nodeInterface)\n"
                : "addr add \(address.cidrText) dev \(nodeInterface) nodad\n"
        }
        batch += routes(for: node, to: peers)
        try LabProcess.check(["ip", "-n", node.namespace, "-batch", "-"], input: batch, timeout: 120)
    }

    /// A route and a permanent neighbour entry for each of `peers` that is not the node itself, routes from the
    /// node's first address of the family (a node without one cannot reach that family at all).
    static func routes(for node: Node, to peers: [Peer]) -> String {
        var lines = ""
        let source4 = node.addresses.first { $0.family == .v4 }
        let source6 = node.addresses.first { $0.family == .v6 }
        for peer in peers where !node.addresses.contains(peer.address) {
            guard let source = peer.address.family == .v4 ? source4 : source6 else { continue }
            lines += "route replace \(peer.address.cidrText) dev \(nodeInterface) src \(source.addressText)\n"
            lines += "neigh replace \(peer.address.addressText) lladdr \(peer.mac) dev \(nodeInterface) nud permanent\n"
        }
        return lines
    }

    /// For a node that stays up while others come and go: routes and neighbours for the new (or re-made) peers,
    /// none for the gone ones.
    static func update(_ node: Node, added: [Peer], removed: [IPNetwork]) throws(LabError) {
        var batch = routes(for: node, to: added)
        for target in removed where !node.addresses.contains(target) {
            batch += "route del \(target.cidrText) dev \(nodeInterface)\n"
            batch += "neigh del \(target.addressText) dev \(nodeInterface)\n"
        }
        guard !batch.isEmpty else { return }
        // -force: a route that is already gone is not a failure.
        _ = try LabProcess.run(["ip", "-force", "-n", node.namespace, "-batch", "-"], input: batch, timeout: 120)
    }

    /// The namespaces of this list that exist.
    static func existing(_ namespaces: [String]) -> [String] {
        namespaces.filter { access("/run/netns/\($0)", F_OK) == 0 }
    }

    /// Ends every process inside the namespaces (SIGTERM, then SIGKILL for what is left after `grace` seconds) and
    /// deletes them; their links go with them. Deleting a namespace alone would leave its processes running.
    static func remove(_ namespaces: [String], grace: Double = 2) throws(LabError) {
        let present = existing(namespaces)
        guard !present.isEmpty else { return }
        var pids = processes(in: present)
        for pid in pids { kill(pid, SIGTERM) }
        let deadline = Date().addingTimeInterval(grace)
        while !pids.isEmpty && Date() < deadline {
            usleep(20_000)
            reap(pids)
            pids = pids.filter { kill($0, 0) == 0 && !isZombie($0) }
        }
        let stubborn = processes(in: present)
        for pid in stubborn { kill(pid, SIGKILL) }
        reap(stubborn)
        let batch = present.map { "netns del \($0)\n" }.joined()
        let result = try LabProcess.run(["ip", "-force", "-batch", "-"], input: batch, timeout: 120)
        let left = existing(present)
        guard left.isEmpty else {
            throw LabError("cannot delete the namespaces \(left.joined(separator: ", ")): \(result.output.trimmingCharacters(in: .whitespacesAndNewlines))")
        }
    }

    /// Every process whose network namespace is one of `namespaces` (by the inode of /run/netns/NAME).
    static func processes(in namespaces: [String]) -> [pid_t] {
        var inodes = Set<UInt64>()
        for name in namespaces {
            var info = stat()
            if stat("/run/netns/\(name)", &info) == 0 { inodes.insert(UInt64(info.st_ino)) }
        }
        guard !inodes.isEmpty, let entries = try? FileManager.default.contentsOfDirectory(atPath: "/proc") else { return [] }
        var result: [pid_t] = []
        let own = getpid()
        for entry in entries {
            guard let pid = pid_t(entry), pid != own else { continue }
            var info = stat()
            if stat("/proc/\(entry)/ns/net", &info) == 0, inodes.contains(UInt64(info.st_ino)) { result.append(pid) }
        }
        return result
    }

    static func isZombie(_ pid: pid_t) -> Bool {
        guard let text = LabFiles.read("/proc/\(pid)/stat"), let close = text.lastIndex(of: ")") else { return false }
        return text[text.index(after: close)...].trimmingCharacters(in: .whitespaces).hasPrefix("Z")
    }

    /// Collects the exit of those of `pids` that are this process's own children (an sshd started by this run), so
    /// they do not stay zombies; other processes' children are left to their parents.
    static func reap(_ pids: [pid_t]) {
        var status: Int32 = 0
        for pid in pids { _ = waitpid(pid, &status, WNOHANG) }
    }
}
