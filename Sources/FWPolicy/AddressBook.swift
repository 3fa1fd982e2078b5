import FWBase
import FWInventory
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Every host's merged vars and the addresses of every host and group of an inventory, computed once per run and
/// then read from many threads: the vars are merged once per host, and rules of thousands of hosts refer to the
/// same groups.
///
/// A host's addresses are the address fwctl connects to (`Connection`: `ansible_ssh_host`, `ansible_host`, else
/// the inventory name) when that is an IP literal, plus its `fw_addresses` list; IPv4-mapped IPv6 addresses count
/// as the IPv4 addresses they are. A DNS name is an error naming the host unless name resolution was asked for. A
/// group's addresses are those of all its hosts, its children's included.
public struct AddressBook: Sendable {
    public enum Resolution: Sendable {
        /// Host names must be IP literals.
        case literalsOnly
        /// DNS names are resolved with the system resolver (`--resolve`).
        case systemResolver
    }

    private let hostVars: [String: HostVars]
    /// The SSH port of each host (`ansible_port`, else 22), or the inventory's error about it.
    private let sshPorts: [String: Result<UInt16, PolicyError>]
    private let hostAddresses: [String: Result<[IPNetwork], PolicyError>]
    /// The jump hosts each host is reached through (JumpPathCheck), from its connection settings.
    let jumpHosts: [String: [JumpHost]]
    private let inventory: Inventory
    private let groupNames: Set<String>
    /// Each group's members and addresses, computed once, when a rule first refers to the group: rules of
    /// thousands of hosts refer to the same few groups, and computing every group's members up front costs the
    /// sum of all groups' sizes, quadratic in a chain of nested groups.
    private let groups = GroupCache()
    private let resolutions = ResolutionCache()
    private let tunnels = Locked<TunnelCatalog?>(nil)

    public init(inventory: Inventory, resolution: Resolution = .literalsOnly) {
        var hostVars: [String: HostVars] = [:]
        var sshPorts: [String: Result<UInt16, PolicyError>] = [:]
        var hostAddresses: [String: Result<[IPNetwork], PolicyError>] = [:]
        var jumpHosts: [String: [JumpHost]] = [:]
        let hosts = inventory.hosts
        for (host, vars) in zip(hosts, inventory.vars(of: hosts)) {
            hostVars[host.name] = vars
            let connection = Result { () throws(PolicyError) in
                do {
                    return try inventory.connection(from: vars)
                } catch let error as InventoryError {
                    throw PolicyError(host: host.name, location: error.location, path: "connection",
                                      message: error.message, hint: error.hint)
                } catch {
                    throw PolicyError(host: host.name, path: "connection", message: "\(error)")
                }
            }
            sshPorts[host.name] = connection.map { UInt16($0.effectivePort) }
            jumpHosts[host.name] = (try? connection.get())?.jumpHosts ?? []
            hostAddresses[host.name] = Result { () throws(PolicyError) in
                try Self.addresses(of: vars, connection: try connection.get(), resolution: resolution)
            }
        }
        self.inventory = inventory
        groupNames = Set(inventory.groups.map(\.name))
        self.hostVars = hostVars
        self.sshPorts = sshPorts
        self.hostAddresses = hostAddresses
        self.jumpHosts = jumpHosts
        var owners: [IPNetwork: [String]] = [:]
        for host in hosts {
            for address in (try? hostAddresses[host.name]?.get()) ?? [] where address.isSingleAddress { owners[address, default: []].append(host.name) }
        }
        addressOwners = owners
        // Each hop of a chain after the first is reached from the hop before it.
        var before: [String: [(previous: JumpHost, target: String, family: IPNetwork.Family?)]] = [:]
        for host in hosts {
            let chain = jumpHosts[host.name] ?? []
            for index in chain.indices.dropFirst() {
                guard let name = Self.inventoryHost(of: chain[index], owners: owners) else { continue }
                // The family the hop before connects over: that of the address written in the chain, or (a host
                // named) that of the host's own first address.
                let written = chain[index].connection.address
                let family = IPNetwork.looksLikeAddress(written) ? (try? IPNetwork(parsing: written))?.unmappingIPv4.family : nil
                if !(before[name] ?? []).contains(where: { $0.previous == chain[index - 1] && $0.family == family }) {
                    before[name, default: []].append((chain[index - 1], host.name, family))
                }
            }
        }
        jumpPredecessors = before
    }

    /// Single addresses of the inventory's hosts, each with the hosts that have it.
    private let addressOwners: [IPNetwork: [String]]
    /// For a host that is a later hop of some host's jump chain: the hop before it (from which its SSH arrives),
    /// once per distinct hop, with one host whose chain it is.
    let jumpPredecessors: [String: [(previous: JumpHost, target: String, family: IPNetwork.Family?)]]

    /// The inventory host a jump host stands for: itself when named so, or the one host that has its address.
    static func inventoryHost(of jump: JumpHost, owners: [IPNetwork: [String]]) -> String? {
        if jump.isInventoryHost { return jump.name }
        guard IPNetwork.looksLikeAddress(jump.connection.address), let address = try? IPNetwork(parsing: jump.connection.address),
              let found = owners[address.unmappingIPv4], found.count == 1 else { return nil }
        return found[0]
    }

    /// The inventory host a jump host stands for (see `inventoryHost(of:owners:)`).
    func inventoryHost(of jump: JumpHost) -> String? { Self.inventoryHost(of: jump, owners: addressOwners) }

    /// A group's members and their usable addresses, from the cache or computed now (once: the first result stored
    /// is the one every thread gets, so every host shares one array per group).
    private func group(_ name: String) -> GroupCache.Entry? {
        guard groupNames.contains(name) else { return nil }
        if let known = groups.get(name) { return known }
        let members = inventory.hosts(inGroup: name)?.map(\.name) ?? []
        var usable: [IPNetwork] = []
        var unusable: [(host: String, reason: PolicyError)] = []
        for member in members {
            switch hostAddresses[member] {
            case .success(let addresses): usable += addresses
            case .failure(let reason): unusable.append((member, reason))
            case nil: break
            }
        }
        var sources = ResolvedSources()
        sources.add(usable)  // normalised once
        return groups.insertIfAbsent(name, GroupCache.Entry(members: members, addresses: sources, unusable: unusable))
    }

    public func isHost(_ name: String) -> Bool { hostAddresses[name] != nil }

    /// Every tunnel of the inventory (the `tunnels` lists of all scopes) and the problems with them, read once per
    /// run: every host's compile consults it (home's rules, the work hosts' warnings).
    public var tunnelCatalog: TunnelCatalog {
        if let known = tunnels.withLock({ $0 }) { return known }
        let catalog = TunnelReader.catalog(book: self, hosts: inventory.hosts.map(\.name))
        return tunnels.withLock { stored in
            if let stored { return stored }
            stored = catalog
            return catalog
        }
    }

    /// A host's merged vars, with the vars of each of its scopes.
    public func vars(ofHost name: String) -> HostVars? { hostVars[name] }

    /// The port SSH listens on at the host: what deploy connects to and the management rule opens.
    func sshPort(ofHost name: String) throws(PolicyError) -> UInt16 {
        guard let result = sshPorts[name] else { throw PolicyError(message: "no host named '\(name)' in the inventory") }
        return try result.get()
    }
    public func isGroup(_ name: String) -> Bool { groupNames.contains(name) }

    /// A host's own addresses (the first is the one deploy connects to), or the error explaining why there are none.
    public func addresses(ofHost name: String) throws(PolicyError) -> [IPNetwork] {
        guard let result = hostAddresses[name] else {
            throw PolicyError(message: "no host named '\(name)' in the inventory")
        }
        return try result.get()
    }

    /// The hosts of a group, children included, in inventory order.
    public func members(ofGroup name: String) -> [String]? { group(name)?.members }

    /// The usable addresses of a group's hosts (see `unusableMembers(ofGroup:)` for the hosts whose addresses failed).
    func addresses(ofGroup name: String) -> ResolvedSources? { group(name)?.addresses }

    /// The hosts of a group without a usable address, each with the reason, in inventory order (found once per
    /// group, not once per rule that names the group: thousands of hosts may name one group of thousands).
    func unusableMembers(ofGroup name: String) -> [(host: String, reason: PolicyError)] { group(name)?.unusable ?? [] }

    /// A source list resolved earlier, by the texts of its entries: the list itself is the key, never the texts
    /// joined into one string, which two different lists can share (`["web\0db"]` and `["web", "db"]`).
    func cachedResolution(_ key: [String]) -> ResolvedSources? { resolutions.get(key) }
    func storeResolution(_ key: [String], _ sources: ResolvedSources) { resolutions.set(key, sources) }

    static func addresses(of vars: HostVars, connection: Connection, resolution: Resolution) throws(PolicyError) -> [IPNetwork] {
        let host = vars.host
        var result: [IPNetwork] = []
        let primaryKey = Connection.addressVariable(in: vars)
        let primary = connection.address
        if IPNetwork.looksLikeAddress(primary) {
            do throws(IPNetworkParseError) {
                let network = try IPNetwork(parsing: primary)
                guard network.isSingleAddress else { throw IPNetworkParseError(text: primary, reason: "a host address has no prefix length") }
                result.append(network.unmappingIPv4)
            } catch {
                throw PolicyError(host: host, location: primaryKey.flatMap(vars.location(of:)), path: primaryKey ?? "inventory name",
                                  message: error.description)
            }
        } else {
            switch resolution {
            case .literalsOnly:
                throw PolicyError(host: host, location: primaryKey.flatMap(vars.location(of:)), path: primaryKey ?? "inventory name",
                                  message: "'\(primary)' is a DNS name, and firewall rules need addresses",
                                  hint: "set ansible_host to the host's IP address, or pass --resolve to look names up now")
            case .systemResolver:
                result += try resolve(primary, host: host)
            }
        }
        if let extra = vars["fw_addresses"] {
            let items = extra.listValue ?? [extra]
            for (index, item) in items.enumerated() {
                let path = "fw_addresses[\(index)]"
                guard let text = item.stringValue else {
                    throw PolicyError(host: host, location: vars.location(of: "fw_addresses"), path: path,
                                      message: "must be an IP address, not \(item.kindDescription) (\(item))")
                }
                do throws(IPNetworkParseError) {
                    let network = try IPNetwork(parsing: text).unmappingIPv4
                    guard network.isSingleAddress else { throw IPNetworkParseError(text: text, reason: "a host address has no prefix length") }
                    if !result.contains(network) { result.append(network) }
                } catch {
                    throw PolicyError(host: host, location: vars.location(of: "fw_addresses"), path: path, message: error.description)
                }
            }
        }
        return result
    }

    /// Looks a name up with getaddrinfo (both families), for `--resolve`.
    static func resolve(_ name: String, host: String) throws(PolicyError) -> [IPNetwork] {
        var hints = addrinfo()
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        var list: UnsafeMutablePointer<addrinfo>?
        let status = getaddrinfo(name, nil, &hints, &list)
        guard status == 0, let first = list else {
            throw PolicyError(host: host, path: "address",
                              message: "cannot resolve '\(name)': \(String(cString: gai_strerror(status)))")
        }
        defer { freeaddrinfo(first) }
        var result: [IPNetwork] = []
        var cursor: UnsafeMutablePointer<addrinfo>? = first
        while let entry = cursor {
            if let sockaddr = entry.pointee.ai_addr {
                if entry.pointee.ai_family == AF_INET {
                    let address = sockaddr.withMemoryRebound(to: sockaddr_in.self, capacity: 1) { UInt32(bigEndian: $0.pointee.sin_addr.s_addr) }
                    result.append(.v4(address: address, prefix: 32))
                } else if entry.pointee.ai_family == AF_INET6 {
                    let address = sockaddr.withMemoryRebound(to: sockaddr_in6.self, capacity: 1) { pointer in
                        withUnsafeBytes(of: pointer.pointee.sin6_addr) { bytes in bytes.reduce(UInt128(0)) { $0 << 8 | UInt128($1) } }
                    }
                    result.append(IPNetwork.v6(address: address, prefix: 128).unmappingIPv4)
                }
            }
            cursor = entry.pointee.ai_next
        }
        var seen = Set<IPNetwork>()
        return result.filter { seen.insert($0).inserted }
    }
}

/// Source lists already resolved in this run, shared by the threads compiling hosts.
private final class ResolutionCache: Sendable {
    private let entries = Locked<[[String]: ResolvedSources]>([:])

    func get(_ key: [String]) -> ResolvedSources? { entries.withLock { $0[key] } }
    func set(_ key: [String], _ value: ResolvedSources) { entries.withLock { $0[key] = value } }
}

/// Groups resolved in this run, shared by the threads compiling hosts.
private final class GroupCache: Sendable {
    struct Entry: Sendable {
        var members: [String]
        var addresses: ResolvedSources
        var unusable: [(host: String, reason: PolicyError)]
    }

    private let entries = Locked<[String: Entry]>([:])

    func get(_ name: String) -> Entry? { entries.withLock { $0[name] } }

    /// Stores `entry` unless another thread stored one first; returns the one kept.
    func insertIfAbsent(_ name: String, _ entry: Entry) -> Entry {
        entries.withLock { entries in
            if let existing = entries[name] { return existing }
            entries[name] = entry
            return entry
        }
    }
}
