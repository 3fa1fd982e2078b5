import FWBase
/// The three views `ansible-inventory` prints, byte for byte: `--list` (JSON of groups and `_meta.hostvars`),
/// `--graph` (the group tree) and `--host` (one host's merged vars).
extension Inventory {
    /// Variables ansible-inventory never prints (Ansible's magic and internal variables).
    static let internalVariables: Set<String> = [
        "ansible_async_path", "ansible_collection_name", "ansible_config_file", "ansible_dependent_role_names",
        "ansible_diff_mode", "ansible_facts", "ansible_forks", "ansible_inventory_sources", "ansible_limit",
        "ansible_play_batch", "ansible_play_hosts", "ansible_play_hosts_all", "ansible_play_role_names",
        "ansible_playbook_python", "ansible_role_name", "ansible_role_names", "ansible_run_tags", "ansible_skip_tags",
        "ansible_verbosity", "ansible_version", "inventory_dir", "inventory_file", "inventory_hostname",
        "inventory_hostname_short", "groups", "group_names", "hostvars", "playbook_dir", "play_hosts", "role_name",
        "role_names", "role_path", "role_uuid",
    ]

    /// `ansible-inventory --list`: every group that has hosts or children (with `all.children` listing all
    /// top-level groups, empty ones included) and `_meta.hostvars` with each host's merged vars. With `hosts`
    /// (a `--limit` selection) only those hosts appear, as with ansible-inventory's `--limit`.
    public func listJSON(hosts selection: [InventoryHost]? = nil) -> String {
        String(decoding: listJSONBytes(hosts: selection), as: UTF8.self)
    }

    /// `listJSON` as UTF-8 bytes, without the copy into a String (the output of a large fleet is many MB).
    public func listJSONBytes(hosts selection: [InventoryHost]? = nil) -> [UInt8] {
        let available: [Int] = selection.map { $0.compactMap { hostIndex[$0.name] } } ?? hostIndices(inGroup: InventoryBuilder.all)
        let availableSet = Set(available)

        enum Member {
            case meta
            case group(children: [String], hosts: [String])
        }
        var members: [(key: String, value: Member)] = [("_meta", .meta)]
        var formatted: Set<Int> = []
        // Depth-first from `all`, each group once, as ansible-inventory's format_group.
        var stack = [InventoryBuilder.all]
        formatted.insert(InventoryBuilder.all)
        while let g = stack.popLast() {
            let record = groupRecords[g]
            let hosts = g == InventoryBuilder.all ? [] : record.hosts.filter(availableSet.contains).map { hostRecords[$0].name }
            let children = record.children.map { groupRecords[$0].name }
            if !hosts.isEmpty || !children.isEmpty {
                members.append((record.name, .group(children: children, hosts: hosts)))
            }
            for c in record.children.reversed() where formatted.insert(c).inserted { stack.append(c) }
        }
        members.sort { $0.key.utf8.lexicographicallyPrecedes($1.key.utf8) }

        // Each layer's values are written to JSON once, at the depth they have in the output, and then copied
        // into every host that has them: a fleet shares most of its vars.
        let merged = mergedOfAll(available) { value -> [UInt8] in
            var writer = JSONWriter(style: .indented(4))
            writer.marksUnsafe = true  // ansible-inventory --list keeps the mark; --host does not
            writer.write(value, level: Self.hostVarValueLevel)
            return writer.bytes
        }
        var hostvars: [(key: String, value: [(key: String, value: [UInt8])])] = []
        var size = 4096
        for (h, values) in zip(available, merged) {
            let vars = values.filter { !Self.internalVariables.contains($0.key) }
            if vars.isEmpty { continue }
            hostvars.append((hostRecords[h].name, vars.sortedByCodePoint()))
            size += hostRecords[h].name.utf8.count + 32
            for (key, json) in vars { size += key.utf8.count + json.count + 24 }
        }
        for (_, member) in members {
            if case .group(let children, let hosts) = member {
                size += 64 + (children + hosts).reduce(0) { $0 + $1.utf8.count + 16 }
            }
        }
        hostvars.sort { $0.key.utf8.lexicographicallyPrecedes($1.key.utf8) }

        var writer = JSONWriter(style: .indented(4))
        writer.bytes.reserveCapacity(size)
        writer.writeObject(members, level: 0) { writer, member, level in
            switch member {
            case .meta:
                writer.bytes.append(UInt8(ascii: "{"))
                writer.separator(first: true, level: level + 1)
                writer.append("\"hostvars\": ")
                writer.writeObject(hostvars, level: level + 1) { writer, vars, level in
                    writer.writeObject(vars, level: level) { writer, json, level in
                        assert(level == Self.hostVarValueLevel)
                        writer.bytes.append(contentsOf: json)
                    }
                }
                writer.separator(first: false, level: level + 1)
                writer.append("\"profile\": \"inventory_legacy\"")
                writer.close(UInt8(ascii: "}"), level: level)
            case .group(let children, let hosts):
                var fields: [(key: String, value: [String])] = []
                if !children.isEmpty { fields.append(("children", children)) }
                if !hosts.isEmpty { fields.append(("hosts", hosts)) }
                writer.writeObject(fields, level: level) { writer, names, level in
                    writer.write(.list(names.map { .string($0) }), level: level)
                }
            }
        }
        writer.bytes.append(UInt8(ascii: "\n"))
        return writer.bytes
    }

    /// `ansible-inventory --graph [GROUP]`: the tree of groups (`@name:`) and their direct hosts below `group`.
    /// With `hosts` (a `--limit` selection) only those hosts are shown; groups stay.
    public func graph(from group: String = "all", hosts selection: [InventoryHost]? = nil) throws -> String {
        guard let start = groupIndex[group] else {
            throw InventoryError(
                "no group named '\(group)'", hint: "--graph takes a group name; `fwctl inventory --graph` shows them all")
        }
        let shown: Set<Int>? = selection.map { Set($0.compactMap { hostIndex[$0.name] }) }
        // A group under several parents is printed under each, so nested "diamonds" multiply the lines;
        // count them first rather than run out of memory.
        let lineCount = graphLineCount(from: start, shown: shown, limit: Self.maxGraphLines)
        guard lineCount <= Self.maxGraphLines else {
            throw InventoryError(
                "the group tree below '\(group)' has more than \(Self.maxGraphLines) lines (groups under several parents repeat)",
                hint: "graph a smaller group, or use --list")
        }
        var lines: [String] = []
        func name(_ text: String, _ depth: Int) -> String {
            // Names are checked when the inventory is read; escaping is the display's own guarantee.
            let shown = DisplayEscaping.escaped(text)
            return depth == 0 ? shown : String(repeating: "  |", count: depth) + "--" + shown
        }
        // Depth-first (without recursion: group chains can be long); a group under several parents appears
        // under each, as in Ansible. A group's children come before its own hosts.
        enum Item {
            case group(Int, depth: Int)
            case host(String, depth: Int)
        }
        var stack: [Item] = [.group(start, depth: 0)]
        while let item = stack.popLast() {
            switch item {
            case .host(let host, let depth):
                lines.append(name(host, depth))
            case .group(let g, let depth):
                let record = groupRecords[g]
                lines.append(name("@\(record.name):", depth))
                if g != InventoryBuilder.all {
                    for h in record.hosts.reversed() where shown?.contains(h) ?? true {
                        stack.append(.host(hostRecords[h].name, depth: depth + 1))
                    }
                }
                for c in record.children.reversed() { stack.append(.group(c, depth: depth + 1)) }
            }
        }
        return lines.joined(separator: "\n") + "\n"
    }

    static let maxGraphLines = 1_000_000

    /// Nesting level of a host variable's value in `--list`: {"_meta": {"hostvars": {"HOST": {"KEY": VALUE}}}}.
    static let hostVarValueLevel = 4

    /// Lines of the graph below `start` (capped just past `limit`), without building it.
    func graphLineCount(from start: Int, shown: Set<Int>?, limit: Int) -> Int {
        var lines = [Int?](repeating: nil, count: groupRecords.count)
        for g in topologicalOrder.reversed() {
            var count = 1
            if g != InventoryBuilder.all {
                count += shown.map { s in groupRecords[g].hosts.filter(s.contains).count } ?? groupRecords[g].hosts.count
            }
            for c in groupRecords[g].children { count = min(count + (lines[c] ?? 0), limit + 1) }
            lines[g] = count
        }
        return lines[start] ?? 1
    }

    /// `ansible-inventory --host NAME`: the host's merged vars as JSON.
    public func hostJSON(_ name: String) throws -> String {
        guard let vars = vars(of: name) else {
            throw InventoryError("no host named '\(name)'", hint: "`fwctl inventory --list` shows the hosts")
        }
        let shown = vars.merged.filter { !Self.internalVariables.contains($0.key) }
        return InventoryValue.dict(shown).jsonText(style: .indented(4)) + "\n"
    }
}
