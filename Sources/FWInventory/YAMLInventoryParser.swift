import Yams

/// Ansible's YAML inventory format (the `yaml` plugin): top-level keys are groups, each with optional `hosts`
/// (host patterns, ranges allowed, mapping to their vars), `vars` and `children` (nested groups of the same shape).
struct YAMLInventoryParser {
    let file: String
    private var reader = YAMLReader()
    private var budget: HostDeclaration.Budget
    var warnings: [String] = []

    init(file: String, maxHosts: Int) {
        self.file = file
        self.budget = .init(remaining: maxHosts)
    }

    private func location(_ node: Node) -> FileLocation {
        FileLocation(file: file, line: node.mark?.line, column: node.mark?.column)
    }

    private func error(_ message: String, at node: Node, hint: String? = nil) -> InventoryError {
        InventoryError(message, at: location(node), hint: hint)
    }

    /// Reads a parsed YAML document into `builder`.
    mutating func parse(_ root: Node, into builder: inout InventoryBuilder) throws {
        guard case .mapping(let top) = root else {
            throw error("a YAML inventory must be a mapping of group names, e.g. 'all:'", at: root)
        }
        if top.isEmpty { throw error("the YAML inventory is empty", at: root) }
        for (key, value) in try reader.flattened(top) {
            if try keyName(key) == "plugin" && !isNull(value) {
                throw error(
                    "this is the configuration of an inventory plugin ('plugin: \(value.scalar?.string ?? "")'), not an inventory",
                    at: key,
                    hint: "fwctl reads static inventories; export this one with `ansible-inventory -i FILE --list > inventory.json` and use that")
            }
        }
        for (key, value) in try reader.flattened(top) {
            _ = try parseGroup(try keyName(key), key: key, data: value, into: &builder)
        }
    }

    private mutating func keyName(_ node: Node) throws -> String {
        do {
            return try reader.keyString(node)
        } catch let failure as YAMLReader.Failure {
            throw InventoryError(failure.message, at: FileLocation(file: file, line: failure.line, column: failure.column))
        }
    }

    private mutating func value(_ node: Node) throws -> InventoryValue {
        do {
            return try reader.convert(node)
        } catch let failure as YAMLReader.Failure {
            throw InventoryError(failure.message, at: FileLocation(file: file, line: failure.line, column: failure.column))
        }
    }

    private func isNull(_ node: Node) -> Bool {
        guard case .scalar(let s) = node, s.style == .plain, s.tag.description.isEmpty else { return false }
        return s.string.isEmpty || s.string == "~" || s.string == "null" || s.string == "Null" || s.string == "NULL"
    }

    /// `_parse_group`: returns the group's index (or nil when the entry is skipped, as Ansible skips it).
    private mutating func parseGroup(_ name: String, key: Node, data: Node, into builder: inout InventoryBuilder) throws -> Int? {
        let isMapping: Bool
        if case .mapping = data { isMapping = true } else { isMapping = false }
        guard isMapping || isNull(data) else {
            warnings.append("\(location(key)): skipping '\(name)': a group must be a mapping (with hosts, vars, children)")
            return nil
        }
        if name.isEmpty { throw error("empty group name", at: key) }
        let group = try builder.addGroup(name, at: location(key))
        guard case .mapping(let mapping) = data else { return group }

        for (sectionKey, section) in try reader.flattened(mapping) {
            let sectionName = try keyName(sectionKey)
            guard sectionName == "hosts" || sectionName == "vars" || sectionName == "children" else {
                if case .mapping = section {
                    warnings.append("\(location(sectionKey)): skipping '\(sectionName)' in group '\(name)': only hosts, vars and children are read")
                } else if !isNull(section) {
                    warnings.append("\(location(sectionKey)): skipping '\(sectionName)' in group '\(name)': it is not a mapping")
                }
                continue
            }
            // A section may be a single name: `hosts: web1` is `hosts: {web1: }`.
            var entries: [(Node, Node)]
            switch section {
            case .mapping(let m): entries = try reader.flattened(m)
            case .scalar(let s) where YAMLReader.isStringLike(s):
                entries = [(section, Node("", Tag(.implicit), .plain))]
            default:
                if isNull(section) { continue }
                throw error(
                    "'\(sectionName)' of group '\(name)' must be a mapping", at: sectionKey,
                    hint: "write each entry as a key ending in ':' (e.g. 'web1:'), not as a list item ('- web1')")
            }
            switch sectionName {
            case "vars":
                for (varKey, varValue) in entries {
                    let key = try keyName(varKey)
                    try builder.setVariable(entity: name, key: key, value: try value(varValue), at: location(varKey))
                }
            case "children":
                for (childKey, childData) in entries {
                    let childName = try keyName(childKey)
                    if let child = try parseGroup(childName, key: childKey, data: childData, into: &builder) {
                        try builder.addChild(parent: group, child: child, at: location(childKey))
                        continue
                    }
                    // As Ansible does: a child whose definition is skipped is still linked by name, to a group (or
                    // host) already known, and is an error otherwise. Dropping the link would drop the vars the
                    // group's hosts inherit through it.
                    if let known = builder.groupIndex[childName] {
                        try builder.addChild(parent: group, child: known, at: location(childKey))
                    } else if let host = builder.hostIndex[childName] {
                        builder.addHost(host, toGroup: group)
                    } else {
                        throw error("'\(childName)' in the children of group '\(name)' is not a known group or host", at: childKey,
                                    hint: "define the group before this reference, as a mapping (with hosts, vars, children)")
                    }
                }
            default:
                for (hostKey, hostData) in entries {
                    try parseHost(hostKey, data: hostData, group: group, into: &builder)
                }
            }
        }
        return group
    }

    private mutating func parseHost(_ key: Node, data: Node, group: Int, into builder: inout InventoryBuilder) throws {
        guard case .scalar(let scalar) = key, scalar.style != .plain || YAMLReader.isStringLike(scalar) else {
            throw error("host name '\(key.scalar?.string ?? "")' must be a string", at: key, hint: "quote names that look like numbers")
        }
        let pattern = scalar.string
        let names: [String]
        let port: Int?
        do {
            (names, port) = try HostDeclaration.expand(pattern, budget: &budget)
        } catch let rangeError as HostDeclaration.RangeError {
            throw error(rangeError.description, at: key, hint: "ranges look like web[01:20], web[01:20:2] or db-[a:f]")
        }
        let vars = try value(data)
        var variables: [String: InventoryValue] = [:]
        switch vars {
        case .dict(let d): variables = d
        case .null, .bool(false), .int(0), .string(""), .list([]): break  // Python: `data or {}`
        case .double(let d) where d == 0: break
        default:
            throw error("the vars of host '\(pattern)' must be a mapping, not \(vars.kindDescription)", at: key)
        }
        var keyLines: [String: FileLocation] = [:]
        if case .mapping(let m) = data {
            for (k, _) in m { if let name = try? reader.keyString(k) { keyLines[name] = location(k) } }
        }
        for name in names {
            try builder.addHost(name, group: group, port: port, at: location(key))
            for (k, v) in variables.sortedByCodePoint() {
                try builder.setVariable(entity: name, key: k, value: v, at: keyLines[k] ?? location(key))
            }
        }
    }
}

extension YAMLReader {
    /// Whether an untagged plain scalar is a string to PyYAML (a host name must be one).
    static func isStringLike(_ scalar: Node.Scalar) -> Bool {
        let tag = scalar.tag.description
        // Keys were hashed by the parser, which resolved untagged plain scalars to str.
        let implicit = tag.isEmpty || tag == "!" || tag == "!unsafe" || (tag == "tag:yaml.org,2002:str" && scalar.style == .plain)
        if !implicit { return tag == "tag:yaml.org,2002:str" }
        if scalar.style != .plain && tag.isEmpty { return true }
        let text = scalar.string
        if text.isEmpty || text == "~" || text == "null" || text == "Null" || text == "NULL" { return false }
        if YAML11.bool(text) != nil || YAML11.matchesFloat(text) || YAML11.matchesInt(text) || YAML11.matchesTimestamp(text) {
            return false
        }
        return true
    }
}
