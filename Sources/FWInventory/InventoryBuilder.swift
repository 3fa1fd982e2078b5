/// Variables with the place each one was set.
struct VarTable: Sendable {
    var values: [String: InventoryValue] = [:]
    var locations: [String: FileLocation] = [:]

    var isEmpty: Bool { values.isEmpty }

    mutating func set(_ key: String, _ value: InventoryValue, at location: FileLocation) {
        values[key] = value
        locations[key] = location
    }

    /// Ansible's `combine_vars` with the default `hash_behaviour = replace`: a key in `other` replaces ours whole.
    mutating func merge(_ other: VarTable) {
        if values.isEmpty {
            self = other
            return
        }
        for (key, value) in other.values {
            values[key] = value
            locations[key] = other.locations[key]
        }
    }
}

struct GroupRecord: Sendable {
    var name: String
    /// Hosts added to this group directly, in the order they were added.
    var hosts: [Int] = []
    var hostSet: Set<Int> = []
    var children: [Int] = []
    var parents: [Int] = []
    /// `ansible_group_priority` as set in an inventory source (not in group_vars, as in Ansible).
    var priority = 1
    /// Vars set in inventory sources (`[g:vars]`, YAML `vars:`, script `vars`).
    var vars = VarTable()
    var declaredAt: FileLocation?
}

struct HostRecord: Sendable {
    var name: String
    var vars = VarTable()
    /// Groups the host was added to directly, in order.
    var groups: [Int] = []
    var declaredAt: FileLocation?
}

/// The inventory while sources are read into it: Ansible's `InventoryData`, with the same rules for adding
/// groups, hosts, children and variables, so that every source kind builds exactly what Ansible builds.
struct InventoryBuilder {
    static let all = 0
    static let ungrouped = 1

    var groups: [GroupRecord] = []
    var groupIndex: [String: Int] = [:]
    var hosts: [HostRecord] = []
    var hostIndex: [String: Int] = [:]
    /// The most hosts the whole inventory may hold (`LoadOptions.maxHosts`), over all its sources together.
    var maxHosts = Int.max

    init() {
        insertGroup("all", at: nil)
        insertGroup("ungrouped", at: nil)
        groups[Self.all].children.append(Self.ungrouped)
        groups[Self.ungrouped].parents.append(Self.all)
    }

    /// The group's index, adding it when new; refuses a name that breaks `InventoryNames`.
    mutating func addGroup(_ name: String, at location: FileLocation?) throws -> Int {
        if let index = groupIndex[name] { return index }
        try InventoryNames.check(name, kind: "group", at: location)
        return insertGroup(name, at: location)
    }

    @discardableResult
    private mutating func insertGroup(_ name: String, at location: FileLocation?) -> Int {
        let index = groups.count
        groups.append(GroupRecord(name: name, declaredAt: location))
        groupIndex[name] = index
        return index
    }

    /// Adds the host if new (with `port` as its `ansible_port`, only then, as Ansible does) and puts it in `group`.
    @discardableResult
    mutating func addHost(_ name: String, group: Int?, port: Int?, at location: FileLocation) throws -> Int {
        guard !name.isEmpty else {
            throw InventoryError("empty host name", at: location, hint: "give each host a name")
        }
        let index: Int
        if let existing = hostIndex[name] {
            index = existing
        } else {
            try InventoryNames.check(name, kind: "host", at: location)
            guard hosts.count < maxHosts else {
                throw InventoryError("the inventory has more than \(maxHosts) hosts, the most fwctl reads", at: location,
                                     hint: "split the fleet into several inventories, or check host ranges like web[0:99999]")
            }
            index = hosts.count
            var record = HostRecord(name: name, declaredAt: location)
            if let port, port != 0 {
                record.vars.set("ansible_port", .int(port), at: location)
            }
            hosts.append(record)
            hostIndex[name] = index
        }
        if let group { addHost(index, toGroup: group) }
        return index
    }

    mutating func addHost(_ host: Int, toGroup group: Int) {
        guard groups[group].hostSet.insert(host).inserted else { return }
        groups[group].hosts.append(host)
        hosts[host].groups.append(group)
    }

    /// Makes `child` a child group of `parent`; refuses an edge that would close a cycle.
    mutating func addChild(parent: Int, child: Int, at location: FileLocation?) throws {
        if parent == child {
            throw InventoryError(
                "group '\(groups[parent].name)' cannot be a child of itself", at: location,
                hint: "remove '\(groups[parent].name)' from its own children")
        }
        if child == Self.all {
            // Every group without a parent becomes a child of 'all' once loading ends: that would close the loop.
            throw InventoryError(
                "making 'all' a child of '\(groups[parent].name)' creates a cycle: every group is in 'all' already", at: location,
                hint: "remove 'all' from the children of '\(groups[parent].name)'")
        }
        if groups[parent].children.contains(child) { return }
        if let path = path(fromAncestor: child, to: parent) {
            let cycle = (path + [child]).map { groups[$0].name }.joined(separator: " -> ")
            throw InventoryError(
                "making '\(groups[child].name)' a child of '\(groups[parent].name)' creates a cycle: \(cycle)",
                at: location, hint: "a group cannot contain itself through its children; remove one of these links")
        }
        groups[parent].children.append(child)
        if !groups[child].parents.contains(parent) { groups[child].parents.append(parent) }
    }

    /// The chain of groups from `ancestor` down to `group` through children, if `ancestor` is an ancestor of it.
    ///
    /// Searched from both ends in step, up from `group` through parents and down from `ancestor` through children,
    /// stopping as soon as either side runs out: adding a link costs what the smaller side holds. A chain declared
    /// top-down (each child new, without children) or bottom-up (each parent new, without parents) then costs O(1)
    /// per link, where walking one side only made a 20,000-group chain quadratic.
    private func path(fromAncestor ancestor: Int, to group: Int) -> [Int]? {
        if ancestor == group { return [group] }
        var up: [Int: Int] = [group: group]  // reached going up: node -> the child it was reached from
        var down: [Int: Int] = [ancestor: ancestor]  // reached going down: node -> the parent it was reached from
        var upQueue = [group], downQueue = [ancestor]
        var upHead = 0, downHead = 0
        func chain(meeting node: Int) -> [Int] {
            var top: [Int] = [node]
            var current = node
            while current != ancestor { current = down[current]!; top.append(current) }
            var result = Array(top.reversed())
            current = node
            while current != group { current = up[current]!; result.append(current) }
            return result
        }
        while upHead < upQueue.count && downHead < downQueue.count {
            let next = groups[upQueue[upHead]]
            let from = upQueue[upHead]
            upHead += 1
            for parent in next.parents where up[parent] == nil {
                up[parent] = from
                if down[parent] != nil { return chain(meeting: parent) }
                upQueue.append(parent)
            }
            let below = downQueue[downHead]
            downHead += 1
            for child in groups[below].children where down[child] == nil {
                down[child] = below
                if up[child] != nil { return chain(meeting: child) }
                downQueue.append(child)
            }
        }
        return nil
    }

    /// Ansible's `InventoryData.set_variable`: the name is looked up as a group first, then as a host (so a host
    /// named like a group gives its vars to the group, as in Ansible).
    mutating func setVariable(entity: String, key: String, value: InventoryValue, at location: FileLocation) throws {
        if let group = groupIndex[entity] {
            try setGroupVariable(group, key: key, value: value, at: location)
        } else if let host = hostIndex[entity] {
            hosts[host].vars.set(key, value, at: location)
        } else {
            throw InventoryError("no group or host named '\(entity)'", at: location)
        }
    }

    /// `ansible_group_priority` sets the group's priority (converted as Python's `int()` does) and is not kept as
    /// a variable; every other key is.
    mutating func setGroupVariable(_ group: Int, key: String, value: InventoryValue, at location: FileLocation) throws {
        guard key == "ansible_group_priority" else {
            groups[group].vars.set(key, value, at: location)
            return
        }
        let priority: Int?
        switch value {
        case .int(let i): priority = i
        case .bool(let b): priority = b ? 1 : 0
        case .double(let d): priority = d.isFinite && abs(d) < 9e18 ? Int(d) : nil
        case .string(let s), .unsafe(let s): priority = PythonText.int(Substring(s))
        default: priority = nil
        }
        guard let priority else {
            throw InventoryError(
                "ansible_group_priority of group '\(groups[group].name)' must be an integer, not \(value.kindDescription) (\(value))",
                at: location)
        }
        groups[group].priority = priority
    }

    /// Ansible's `reconcile_inventory`: every group without a parent goes under `all`; a host in no group but
    /// `all` goes to `ungrouped`, and a host in some other group leaves `ungrouped`.
    mutating func reconcile() {
        for g in groups.indices where g != Self.all && groups[g].parents.isEmpty {
            groups[Self.all].children.append(g)
            groups[g].parents.append(Self.all)
        }
        var memberships = MembershipCache()
        for h in hosts.indices {
            let memberOf = memberships.groups(ofHostIn: hosts[h].groups, builder: self)
            if memberOf.contains(Self.ungrouped) {
                if !memberOf.subtracting([Self.all, Self.ungrouped]).isEmpty {
                    removeHost(h, fromGroup: Self.ungrouped)
                }
            } else if memberOf.isEmpty || memberOf == [Self.all] {
                addHost(h, toGroup: Self.ungrouped)
            }
        }
    }

    private mutating func removeHost(_ host: Int, fromGroup group: Int) {
        guard groups[group].hostSet.remove(host) != nil else { return }
        groups[group].hosts.removeAll { $0 == host }
        hosts[host].groups.removeAll { $0 == group }
    }

    /// The groups `direct` and all their ancestors.
    func groupsWithAncestors(_ direct: [Int]) -> Set<Int> {
        var found = Set(direct)
        var stack = direct
        while let g = stack.popLast() {
            for p in groups[g].parents where found.insert(p).inserted { stack.append(p) }
        }
        return found
    }

    /// Groups ordered so that every parent comes before its children (the graph has no cycles).
    func topologicalOrder() -> [Int] {
        var pendingParents = groups.map { $0.parents.count }
        var order: [Int] = []
        order.reserveCapacity(groups.count)
        var ready = groups.indices.filter { pendingParents[$0] == 0 }
        while let g = ready.popLast() {
            order.append(g)
            for c in groups[g].children {
                pendingParents[c] -= 1
                if pendingParents[c] == 0 { ready.append(c) }
            }
        }
        return order
    }
}

/// A host's groups (direct and inherited), computed once per distinct list of direct groups: most hosts of a
/// fleet share their groups with many others.
struct MembershipCache {
    private var cache: [[Int]: Set<Int>] = [:]

    mutating func groups(ofHostIn direct: [Int], builder: InventoryBuilder) -> Set<Int> {
        if let known = cache[direct] { return known }
        let all = builder.groupsWithAncestors(direct)
        cache[direct] = all
        return all
    }
}
