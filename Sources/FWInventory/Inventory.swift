/// An Ansible inventory as fwctl reads it: hosts, groups with their parents and children, and every variable with
/// the place it was set. Immutable once loaded; cheap to copy and safe to share between threads.
///
/// Order: `hosts` is inventory order (the order hosts first appear in the sources); `groups` is the order groups
/// are created (`all`, `ungrouped`, then as declared). Host selections are returned in inventory order.
public struct Inventory: Sendable {
    /// The sources as given (files, directories, scripts, comma-separated host lists).
    public let sources: [String]
    /// Things that are legal but probably mistakes (a group_vars file for a group that does not exist, a YAML key
    /// that is ignored). Ansible says nothing or warns; fwctl lets the caller decide.
    public let warnings: [String]

    let groupRecords: [GroupRecord]
    let hostRecords: [HostRecord]
    let groupIndex: [String: Int]
    let hostIndex: [String: Int]
    /// group_vars files per group: per vars directory (one per inventory source's directory), in file order.
    let groupFiles: [[[VarTable]]]
    /// host_vars files per host, the same way.
    let hostFiles: [[[VarTable]]]
    /// Longest path from `all`.
    let depth: [Int]
    /// Groups ordered parents before children.
    let topologicalOrder: [Int]
    /// Position of each group in Ansible's merge order: by depth, then `ansible_group_priority`, then name.
    let rank: [Int]
    /// Each host's groups (direct and inherited, `all` included), sorted by rank.
    let hostGroups: [[Int]]
    /// Each group's own vars: its inventory-source vars replaced key by key by its group_vars files.
    let groupScopes: [VarScope]

    init(
        sources: [String], warnings: [String], builder: InventoryBuilder,
        groupFiles: [[[VarTable]]], hostFiles: [[[VarTable]]]
    ) {
        self.sources = sources
        self.warnings = warnings
        self.groupRecords = builder.groups
        self.hostRecords = builder.hosts
        self.groupIndex = builder.groupIndex
        self.hostIndex = builder.hostIndex
        self.groupFiles = groupFiles
        self.hostFiles = hostFiles

        var depth = [Int](repeating: 0, count: builder.groups.count)
        self.topologicalOrder = builder.topologicalOrder()
        for g in topologicalOrder {
            for c in builder.groups[g].children { depth[c] = max(depth[c], depth[g] + 1) }
        }
        self.depth = depth
        let groups = builder.groups
        let order = groups.indices.sorted { a, b in
            if depth[a] != depth[b] { return depth[a] < depth[b] }
            if groups[a].priority != groups[b].priority { return groups[a].priority < groups[b].priority }
            return groups[a].name.utf8.lexicographicallyPrecedes(groups[b].name.utf8)
        }
        var rank = [Int](repeating: 0, count: groups.count)
        for (position, g) in order.enumerated() { rank[g] = position }
        self.rank = rank

        self.groupScopes = builder.groups.indices.map { g in
            var own = builder.groups[g].vars
            for file in groupFiles[g].joined() { own.merge(file) }
            return VarScope(owner: .group(builder.groups[g].name), table: own)
        }

        var memberships = MembershipCache()
        var sortedChains: [Set<Int>: [Int]] = [:]
        self.hostGroups = builder.hosts.map { host in
            let member = memberships.groups(ofHostIn: host.groups, builder: builder)
            if let chain = sortedChains[member] { return chain }
            let chain = member.sorted { rank[$0] < rank[$1] }
            sortedChains[member] = chain
            return chain
        }
    }

    // MARK: Hosts and groups

    /// All hosts (those of group `all`, as Ansible's `all` pattern gives them), in inventory order.
    public var hosts: [InventoryHost] { hostIndices(inGroup: InventoryBuilder.all).sorted().map(host(at:)) }

    /// All groups, `all` and `ungrouped` first, then in the order they were declared.
    public var groups: [InventoryGroup] { groupRecords.indices.map(group(at:)) }

    public func host(named name: String) -> InventoryHost? {
        hostIndex[name].map(host(at:))
    }

    public func group(named name: String) -> InventoryGroup? {
        groupIndex[name].map(group(at:))
    }

    func host(at index: Int) -> InventoryHost {
        InventoryHost(name: hostRecords[index].name, location: hostRecords[index].declaredAt)
    }

    func group(at index: Int) -> InventoryGroup {
        let record = groupRecords[index]
        return InventoryGroup(
            name: record.name, location: record.declaredAt,
            hosts: record.hosts.map { hostRecords[$0].name },
            children: record.children.map { groupRecords[$0].name },
            parents: record.parents.map { groupRecords[$0].name },
            depth: depth[index], priority: record.priority)
    }

    /// Every host of the group, its children's included (recursively), in Ansible's order for a group: the
    /// group's own hosts first, then its children's, level by level. Nil when there is no such group.
    public func hosts(inGroup name: String) -> [InventoryHost]? {
        groupIndex[name].map { hostIndices(inGroup: $0).map(host(at:)) }
    }

    func hostIndices(inGroup group: Int) -> [Int] {
        var seenGroups: Set<Int> = [group]
        var level = [group]
        var seenHosts = Set<Int>()
        var result: [Int] = []
        while !level.isEmpty {
            var next: [Int] = []
            for g in level {
                for h in groupRecords[g].hosts where seenHosts.insert(h).inserted { result.append(h) }
                for c in groupRecords[g].children where seenGroups.insert(c).inserted { next.append(c) }
            }
            level = next
        }
        return result
    }

    /// The host's groups, direct and inherited, in Ansible's precedence order from lowest to highest: `all`
    /// first, then by depth below `all` (parents before children), then `ansible_group_priority`, then name.
    public func groups(of host: String) -> [InventoryGroup]? {
        hostIndex[host].map { hostGroups[$0].map(group(at:)) }
    }

    // MARK: Variables

    /// The host's variables: per scope (each of its groups, then the host), per layer, and merged as Ansible
    /// merges them. Nil when there is no such host.
    public func vars(of host: String) -> HostVars? {
        guard let h = hostIndex[host] else { return nil }
        var cache: [[Int]: VarTable] = [:]
        return hostVars(h, groupMergeCache: &cache)
    }

    /// A group's own vars (its inventory-source vars, replaced key by key by its group_vars files), whether or
    /// not it has hosts. Nil when there is no such group.
    public func vars(ofGroup name: String) -> VarScope? {
        groupIndex[name].map { groupScopes[$0] }
    }

    /// The variables of many hosts (a selection, or all); faster than one by one, as hosts with the same groups
    /// share the group part of the merge.
    public func vars(of hosts: [InventoryHost]) -> [HostVars] {
        var cache: [[Int]: VarTable] = [:]
        return hosts.compactMap { hostIndex[$0.name] }.map { hostVars($0, groupMergeCache: &cache) }
    }

    /// Ansible's merge for one host (VariableManager with the default precedence): the inventory-source vars of
    /// all its groups (in group order), then the group_vars files of `all`, then those of its other groups (vars
    /// directory by vars directory), then the host's inventory vars, then its host_vars files. Later replaces
    /// earlier, key by key (`hash_behaviour = replace`). The group part is shared through `cache` by hosts with
    /// the same groups.
    private func hostVars(_ h: Int, groupMergeCache cache: inout [[Int]: VarTable]) -> HostVars {
        let chain = hostGroups[h]
        var own = VarTable()
        forEachHostLayer(h) { own.merge(table($0)) }
        let scopes = chain.map { groupScopes[$0] } + [VarScope(owner: .host(hostRecords[h].name), table: own)]
        var merged: VarTable
        if let cached = cache[chain] {
            merged = cached
        } else {
            merged = VarTable()
            forEachGroupLayer(chain) { merged.merge(table($0)) }
            cache[chain] = merged
        }
        merged.merge(own)
        return HostVars(host: hostRecords[h].name, scopes: scopes, merged: merged, layers: { layers(ofHost: h) })
    }

    /// The layers of a host's merge in Ansible's order, each with its owner and source.
    func layers(ofHost h: Int) -> [VarLayer] {
        var layers: [VarLayer] = []
        func add(_ id: LayerID) {
            let table = table(id)
            guard !table.isEmpty else { return }
            switch id {
            case .groupInline(let g):
                layers.append(VarLayer(owner: .group(groupRecords[g].name), source: .inventory, table: table))
            case .groupFile(let g, _, _):
                layers.append(VarLayer(owner: .group(groupRecords[g].name), source: .varsFile, table: table))
            case .hostInline(let h):
                layers.append(VarLayer(owner: .host(hostRecords[h].name), source: .inventory, table: table))
            case .hostFile(let h, _, _):
                layers.append(VarLayer(owner: .host(hostRecords[h].name), source: .varsFile, table: table))
            }
        }
        forEachGroupLayer(hostGroups[h], add)
        forEachHostLayer(h, add)
        return layers
    }

    /// One layer of a host's merge: a group's or host's vars from an inventory source, or one vars file.
    enum LayerID: Hashable {
        case groupInline(Int)
        case groupFile(group: Int, base: Int, file: Int)
        case hostInline(Int)
        case hostFile(host: Int, base: Int, file: Int)
    }

    func table(_ layer: LayerID) -> VarTable {
        switch layer {
        case .groupInline(let g): return groupRecords[g].vars
        case .groupFile(let g, let base, let file): return groupFiles[g][base][file]
        case .hostInline(let h): return hostRecords[h].vars
        case .hostFile(let h, let base, let file): return hostFiles[h][base][file]
        }
    }

    /// The group layers of the merge for a host in groups `chain` (sorted by rank), lowest precedence first.
    func forEachGroupLayer(_ chain: [Int], _ body: (LayerID) -> Void) {
        for g in chain { body(.groupInline(g)) }
        let all = InventoryBuilder.all
        for base in groupFiles[all].indices {
            for file in groupFiles[all][base].indices { body(.groupFile(group: all, base: base, file: file)) }
        }
        for base in groupFiles[all].indices {
            for g in chain where g != all {
                for file in groupFiles[g][base].indices { body(.groupFile(group: g, base: base, file: file)) }
            }
        }
    }

    /// The host's own layers, after all group layers.
    func forEachHostLayer(_ h: Int, _ body: (LayerID) -> Void) {
        body(.hostInline(h))
        for base in hostFiles[h].indices {
            for file in hostFiles[h][base].indices { body(.hostFile(host: h, base: base, file: file)) }
        }
    }

    /// Merged values of many hosts at once, each value transformed by `convert` once per layer (listing
    /// serializes them): hosts with the same groups share the group part of the merge.
    func mergedOfAll<T>(_ indices: [Int], convert: (InventoryValue) -> T) -> [[String: T]] {
        var converted: [LayerID: [String: T]] = [:]
        func layer(_ id: LayerID) -> [String: T] {
            if let done = converted[id] { return done }
            let values = table(id).values.mapValues(convert)
            if case .groupInline = id { converted[id] = values } else if case .groupFile = id { converted[id] = values }
            return values
        }
        var chainCache: [[Int]: [String: T]] = [:]
        return indices.map { h in
            let chain = hostGroups[h]
            var values: [String: T]
            if let cached = chainCache[chain] {
                values = cached
            } else {
                values = [:]
                forEachGroupLayer(chain) { values.merge(layer($0)) { _, new in new } }
                chainCache[chain] = values
            }
            forEachHostLayer(h) { values.merge(layer($0)) { _, new in new } }
            return values
        }
    }
}

/// A host of the inventory.
public struct InventoryHost: Sendable, Hashable, CustomStringConvertible {
    /// The inventory name (`inventory_hostname`).
    public let name: String
    /// Where the host was first declared.
    public let location: FileLocation?

    public var description: String { name }

    public static func == (a: InventoryHost, b: InventoryHost) -> Bool { a.name == b.name }
    public func hash(into hasher: inout Hasher) { hasher.combine(name) }
}

/// A group of the inventory.
public struct InventoryGroup: Sendable, Hashable, CustomStringConvertible {
    public let name: String
    /// Where the group was first declared (nil for the implicit `all` and `ungrouped`).
    public let location: FileLocation?
    /// Hosts added to this group directly, in order (see `Inventory.hosts(inGroup:)` for all of them).
    public let hosts: [String]
    public let children: [String]
    public let parents: [String]
    /// Distance from `all` along the longest chain of parents (`all` is 0, its children 1, ...).
    public let depth: Int
    /// `ansible_group_priority` as set in an inventory source (default 1).
    public let priority: Int

    public var description: String { name }
}

/// Whose variables: a group's or the host's own.
public enum VarOwner: Sendable, Hashable, CustomStringConvertible {
    case group(String)
    case host(String)

    public var description: String {
        switch self {
        case .group(let name): return "group '\(name)'"
        case .host(let name): return "host '\(name)'"
        }
    }
}

/// The variables one group or the host itself contributes, before merging across groups.
public struct VarScope: Sendable {
    public let owner: VarOwner
    /// The scope's own vars: those set in inventory sources, replaced key by key by its group_vars/host_vars files.
    public var vars: [String: InventoryValue] { table.values }
    let table: VarTable

    /// Where `key` was set for this scope (file and line).
    public func location(of key: String) -> FileLocation? { table.locations[key] }
}

/// One step of Ansible's merge: one owner's vars from one source.
public struct VarLayer: Sendable {
    public enum Source: Sendable, Hashable {
        /// Set in an inventory source (`[g:vars]`, a host line, YAML `vars:`, a script's output).
        case inventory
        /// A group_vars/ or host_vars/ file (its path is in the locations).
        case varsFile
    }

    public let owner: VarOwner
    public let source: Source
    public var vars: [String: InventoryValue] { table.values }
    let table: VarTable

    public func location(of key: String) -> FileLocation? { table.locations[key] }
}

/// A host's variables, per scope and merged.
public struct HostVars: Sendable {
    public let host: String
    /// One scope per group of the host in precedence order (lowest first, as `Inventory.groups(of:)`), then the
    /// host's own scope last. For settings that accumulate over groups (firewall rules), walk these.
    public let scopes: [VarScope]
    let mergedTable: VarTable
    private let makeLayers: @Sendable () -> [VarLayer]

    init(host: String, scopes: [VarScope], merged: VarTable, layers: @escaping @Sendable () -> [VarLayer]) {
        self.host = host
        self.scopes = scopes
        self.mergedTable = merged
        self.makeLayers = layers
    }

    /// The merged variables, exactly as `ansible-inventory --host` computes them.
    public var merged: [String: InventoryValue] { mergedTable.values }

    public subscript(key: String) -> InventoryValue? { mergedTable.values[key] }

    /// Where the merged value of `key` was set (the layer that won).
    public func location(of key: String) -> FileLocation? { mergedTable.locations[key] }

    /// Every non-empty layer of the merge in Ansible's order, lowest precedence first: the inventory-source vars of
    /// each group, then each group's vars files (`all`'s first), then the host's inventory vars and its files.
    /// (Ansible applies all groups' inventory vars before any vars file, so this order differs from `scopes`.)
    public var layers: [VarLayer] { makeLayers() }
}
