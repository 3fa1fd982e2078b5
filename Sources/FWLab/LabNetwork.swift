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
    /// then gives each its addresses and routes to `allAddresses` (its own skipped).
    static func add(_ nodes: [Node], switchNamespace: String, allAddresses: [IPNetwork]) throws(LabError) {
        guard !nodes.isEmpty else { return }
        var root = ""
        var plug = ""
        for node in nodes {
            root += "netns add \(node.namespace)\n"
            root += "link add \(node.link) netns \(switchNamespace) type veth peer name \(nodeInterface) netns \(node.namespace)\n"
            plug += "link set \(node.link) master \(bridge) up\n"
        }
        try LabProcess.check(["ip", "-batch", "-"], input: root, timeout: 120)
        try LabProcess.check(["ip", "-n", switchNamespace, "-batch", "-"], input: plug, timeout: 120)
        let results = NamespaceThread.map(nodes, width: 4, namespace: { _ in nil }) { node throws(LabError) in
            try configure(node, allAddresses: allAddresses)
        }
        for case .failure(let error) in results { throw error }
    }

    /// Addresses, links up, and a host route to every other lab address (from the node's own address of that
    /// family; a node without one cannot reach that family at all).
    static func configure(_ node: Node, allAddresses: [IPNetwork]) throws(LabError) {
        var batch = "link set lo up\nlink set \(nodeInterface) up\n"
        for address in node.addresses {
            batch += address.family == .v4
                ? "addr add \(address.cidrText) dev \(nodeInterface)\n"
                : "addr add \(address.cidrText) dev \(nodeInterface) nodad\n"
        }
        batch += routes(for: node, to: allAddresses, verb: "replace")
        try LabProcess.check(["ip", "-n", node.namespace, "-batch", "-"], input: batch, timeout: 120)
    }

    /// `route VERB` lines to each of `targets` that is not the node's own, from the node's first address of the family.
    static func routes(for node: Node, to targets: [IPNetwork], verb: String) -> String {
        var lines = ""
        let source4 = node.addresses.first { $0.family == .v4 }
        let source6 = node.addresses.first { $0.family == .v6 }
        for target in targets where !node.addresses.contains(target) {
            if target.family == .v4, let source4 {
                lines += "route \(verb) \(target.cidrText) dev \(nodeInterface) src \(source4.addressText)\n"
            } else if target.family == .v6, let source6 {
                lines += "route \(verb) \(target.cidrText) dev \(nodeInterface) src \(source6.addressText)\n"
            }
        }
        return lines
    }

    /// For a node that stays up while others come and go: routes to the new addresses, none to the gone ones, and
    /// no cached link-layer address for `renewed` ones (a host made again has a new link: its old MAC is dead).
    static func update(_ node: Node, added: [IPNetwork], removed: [IPNetwork], renewed: [IPNetwork]) throws(LabError) {
        var batch = routes(for: node, to: added, verb: "replace")
        for target in removed where !node.addresses.contains(target) {
            batch += "route del \(target.cidrText) dev \(nodeInterface)\n"
        }
        for target in renewed where !node.addresses.contains(target) {
            batch += "neigh flush to \(target.addressText) dev \(nodeInterface)\n"
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
