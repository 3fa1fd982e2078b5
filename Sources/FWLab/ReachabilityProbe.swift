import FWPolicy
import Foundation
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// A namespace the probe connects from (every lab host and the controller) or to (every lab host).
public struct ProbeNode: Sendable {
    public var name: String
    public var namespace: String
    public var addresses: [IPNetwork]
    /// The controller only connects; nothing listens there.
    public var isController: Bool
}

/// One TCP connect of a probe.
public struct ProbeOutcome: Codable, Sendable, Equatable {
    public var from: String
    /// The address the connect was made from: the source's first address of the destination's family.
    public var fromAddress: String
    public var to: String
    public var address: String
    public var port: Int
    public var open: Bool
    /// Why it did not connect: refused, timeout, unreachable.
    public var reason: String?
    /// What the policy says (`ProbeExpectation`), when asked.
    public var expected: Bool?
}

/// Who can reach whom: from every lab host and the controller, a TCP connect to every port of every address of
/// every other host, all at once. Listeners on the probed ports are opened by the probe inside each host (where
/// nothing listens there already) and closed after. One thread per namespace, non-blocking sockets and poll: no
/// process per connect.
public struct ReachabilityProbe: Sendable {
    public var ports: [UInt16]
    /// How long a connect may take before it counts as blocked (a dropped SYN never answers).
    public var timeout: Double

    public init(ports: [UInt16], timeout: Double = 1) {
        self.ports = ports
        self.timeout = timeout
    }

    public func run(_ nodes: [ProbeNode]) throws(LabError) -> [ProbeOutcome] {
        let limit = LabSocket.raiseOpenFileLimit()
        let destinations = nodes.filter { !$0.isController }
        let ports = self.ports
        let listening = NamespaceThread.map(destinations, width: 16, namespace: { $0.namespace }) { node throws(LabError) -> [Int32] in
            var fds: [Int32] = []
            do {
                for address in node.addresses {
                    for port in ports { if let fd = try LabSocket.listen(on: address, port: port) { fds.append(fd) } }
                }
            } catch {
                for fd in fds { close(fd) }
                throw LabError("probe listener in host '\(node.name)': \(error)")
            }
            return fds
        }
        var listeners: [Int32] = []
        var failure: LabError?
        for result in listening {
            switch result {
            case .success(let fds): listeners += fds
            case .failure(let error): failure = failure ?? error
            }
        }
        defer { for fd in listeners { close(fd) } }
        if let failure { throw failure }

        let window = max(8, min(2048, (limit - listeners.count - 256) / max(1, nodes.count)))
        let timeout = self.timeout
        let pending = HandshakeCount()
        let perSource = NamespaceThread.map(nodes, width: min(nodes.count, 512), namespace: { $0.namespace }) { source throws(LabError) in
            Self.connectAll(from: source, to: destinations, ports: ports, window: window, timeout: timeout, pending: pending)
        }
        var outcomes: [ProbeOutcome] = []
        for result in perSource {
            switch result {
            case .success(let list): outcomes += list
            case .failure(let error): throw error
            }
        }
        return outcomes
    }

    private struct Attempt {
        var destination: String
        var source: IPNetwork
        var address: IPNetwork
        var port: UInt16
    }

    /// Handshakes allowed in flight across all sources at once. All connects at once (7,500 for 50 hosts x 3
    /// ports) queue up in the kernel longer than a timeout on two cores, and a connect that was only slow would
    /// count as blocked; a connect stops counting here once it answered or after `handshakeAllowance`, so SYNs a
    /// firewall drops do not hold the others back for a whole timeout.
    static let handshakesInFlight = 256
    static let handshakeAllowance = 0.05

    /// All of one source's connects, at most `window` open at once, each given `timeout` seconds.
    static func connectAll(from source: ProbeNode, to destinations: [ProbeNode], ports: [UInt16], window: Int,
                           timeout: Double, pending: HandshakeCount) -> [ProbeOutcome] {
        var attempts: [Attempt] = []
        for destination in destinations where destination.namespace != source.namespace {
            for address in destination.addresses {
                guard let from = source.addresses.first(where: { $0.family == address.family }) else { continue }
                for port in ports { attempts.append(Attempt(destination: destination.name, source: from, address: address, port: port)) }
            }
        }
        struct Open {
            var index: Int
            var fd: Int32
            var started: Double
            var counted: Bool
        }
        var results = [(open: Bool, reason: String?)?](repeating: nil, count: attempts.count)
        func now() -> Double {
            var time = timespec()
            clock_gettime(CLOCK_MONOTONIC, &time)
            return Double(time.tv_sec) + Double(time.tv_nsec) / 1e9
        }
        func release(_ entry: inout Open) {
            if entry.counted {
                pending.value.subtract(1, ordering: .relaxed)
                entry.counted = false
            }
        }
        /// Connects to each attempt of `queue`, at most `window` open and `handshakesInFlight` shaking hands.
        func pass(_ queue: [Int]) {
            var inFlight: [Open] = []
            var next = 0
            while next < queue.count || !inFlight.isEmpty {
                var blocked = false
                while next < queue.count && inFlight.count < window {
                    let current = pending.value.load(ordering: .relaxed)
                    guard current < handshakesInFlight else { blocked = true; break }
                    guard pending.value.compareExchange(expected: current, desired: current + 1, ordering: .relaxed).exchanged else { continue }
                    let index = queue[next]
                    let attempt = attempts[index]
                    switch LabSocket.startConnect(from: attempt.source, to: attempt.address, port: attempt.port) {
                    case .success(let fd): inFlight.append(Open(index: index, fd: fd, started: now(), counted: true))
                    case .failure(let failure):
                        pending.value.subtract(1, ordering: .relaxed)
                        results[index] = (false, failure.reason)
                    }
                    next += 1
                }
                if inFlight.isEmpty {
                    if blocked { usleep(500) }
                    continue
                }
                var fds = inFlight.map { pollfd(fd: $0.fd, events: Int16(POLLOUT), revents: 0) }
                let time = now()
                var wake = inFlight.map { $0.started + timeout }.min()!
                for entry in inFlight where entry.counted { wake = min(wake, entry.started + handshakeAllowance) }
                if blocked { wake = min(wake, time + 0.001) }
                _ = poll(&fds, nfds_t(fds.count), Int32((max(0, wake - time) * 1000).rounded(.up)))
                let after = now()
                var still: [Open] = []
                for (position, var entry) in inFlight.enumerated() {
                    if fds[position].revents != 0 {
                        let failure = LabSocket.connectError(entry.fd)
                        results[entry.index] = (failure == nil, failure?.reason)
                        close(entry.fd)
                        release(&entry)
                    } else if after >= entry.started + timeout {
                        results[entry.index] = (false, "timeout")
                        close(entry.fd)
                        release(&entry)
                    } else {
                        if after >= entry.started + handshakeAllowance { release(&entry) }
                        still.append(entry)
                    }
                }
                inFlight = still
            }
        }
        pass(Array(attempts.indices))
        // A connect that timed out is tried once more, after the others: on a busy machine a handshake can be late
        // without being blocked, and a SYN a firewall drops costs only one more timeout.
        let timedOut = attempts.indices.filter { results[$0]?.reason == "timeout" }
        if !timedOut.isEmpty { pass(timedOut) }
        return zip(attempts, results).map { attempt, result in
            ProbeOutcome(from: source.name, fromAddress: attempt.source.addressText, to: attempt.destination,
                         address: attempt.address.addressText, port: Int(attempt.port), open: result?.open ?? false,
                         reason: result?.open == true ? nil : result?.reason)
        }
    }
}

extension Lab {
    /// The controller's name in probe results.
    public static let controllerName = "(controller)"

    /// The lab's hosts and its controller, as the probe sees them.
    public static func probeNodes(_ lab: LabName) throws(LabError) -> [ProbeNode] {
        try requireRoot()
        guard let state = try LabState.load(lab) else {
            throw LabError("there is no lab named \(lab)", hint: "start it with `fwctl lab up -i INVENTORY --name \(lab)`")
        }
        var nodes = state.hosts.map { ProbeNode(name: $0.plan.name, namespace: $0.namespace, addresses: $0.plan.networks, isController: false) }
        if let controller = state.controller {
            nodes.append(ProbeNode(name: controllerName, namespace: controller.namespace,
                                   addresses: controller.addresses.compactMap { try? IPNetwork(parsing: $0) }, isController: true))
        }
        let missing = nodes.filter { LabNetwork.existing([$0.namespace]).isEmpty }.map(\.name)
        guard missing.isEmpty else {
            throw LabError("lab \(lab) is missing the namespaces of \(missing.joined(separator: ", "))", hint: "run `fwctl lab up` again")
        }
        return nodes
    }
}

/// What the policy says of each probed connect: open exactly when the destination's compiled rules admit it.
public enum ProbeExpectation {
    /// The interface lab hosts receive on: rules bound to another interface do not apply in the lab.
    public static let interface = LabNetwork.nodeInterface

    /// Whether the policy lets the connect in. `firewalls[host]` is the compiled firewall of a host, nil for a host
    /// fwctl leaves alone (nothing filters it: open).
    public static func expectedOpen(_ outcome: ProbeOutcome, firewalls: [String: HostFirewall?]) -> Bool {
        guard let entry = firewalls[outcome.to], let firewall = entry,
              let source = try? IPNetwork(parsing: outcome.fromAddress) else { return true }
        return firewall.admits(source: source, protocol: .tcp, port: UInt16(outcome.port), interface: interface)
    }
}

/// The handshakes in flight across all of a probe's threads.
final class HandshakeCount: Sendable {
    let value = Atomic<Int>(0)
}
