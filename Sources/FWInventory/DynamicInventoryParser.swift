/// The JSON an inventory script prints for `--list` (Ansible's `script` plugin), read from a script's output or
/// from a file: `{"group": {"hosts": [...], "vars": {...}, "children": [...]}, "group2": ["h1"],
/// "_meta": {"hostvars": {"h1": {...}}}}`. This is also what `ansible-inventory --list` prints, so its output of
/// any inventory Ansible supports can be saved and read here.
struct DynamicInventoryParser {
    let origin: FileLocation

    /// Whether a JSON document has this shape rather than the YAML inventory shape (which also parses as JSON).
    static func looksDynamic(_ value: InventoryValue) -> Bool {
        guard case .dict(let top) = value else { return false }
        if top["_meta"] != nil { return true }
        for (_, group) in top {
            switch group {
            case .list: return true
            case .dict(let data):
                if case .list = data["hosts"] { return true }
                if case .list = data["children"] { return true }
            default: break
            }
        }
        return false
    }

    private func error(_ message: String, hint: String? = nil) -> InventoryError {
        InventoryError(message, at: origin, hint: hint)
    }

    /// Reads the document into `builder`. `keyOrder` is the order of the top-level keys (groups are created in
    /// it, as Ansible does). Hosts without `_meta.hostvars` get their vars from `hostVars(name)`, which runs
    /// `script --host NAME` for scripts.
    func parse(
        _ document: InventoryValue, keyOrder: [String], into builder: inout InventoryBuilder,
        hostVars: (String) throws -> InventoryValue
    ) throws {
        guard case .dict(let top) = document else {
            throw error("inventory JSON must be an object of groups, not \(document.kindDescription)")
        }
        var meta: [String: InventoryValue]?
        var listedHosts: [String] = []
        var seenHosts = Set<String>()
        for name in keyOrder {
            guard let data = top[name] else { continue }
            if name == "_meta" {
                guard case .dict(let metaDict) = data else { throw error("'_meta' must be an object, not \(data.kindDescription)") }
                guard let hostvars = metaDict["hostvars"] else {
                    throw error("'_meta' has no 'hostvars'", hint: "give '_meta': {'hostvars': {HOST: {VARS}}}")
                }
                guard case .dict(let hv) = hostvars else {
                    throw error("'_meta.hostvars' must be an object, not \(hostvars.kindDescription)")
                }
                meta = hv
                continue
            }
            try parseGroup(name, data, into: &builder) { host in
                if seenHosts.insert(host).inserted { listedHosts.append(host) }
            }
        }
        for host in listedHosts {
            let vars = try meta.map { $0[host] ?? .dict([:]) } ?? hostVars(host)
            guard case .dict(let dict) = vars else {
                throw error("the vars of host '\(host)' must be an object, not \(vars.kindDescription)")
            }
            for (key, value) in dict.sortedByCodePoint() {
                try builder.setVariable(entity: host, key: key, value: value, at: origin)
            }
        }
    }

    private func parseGroup(
        _ name: String, _ rawData: InventoryValue, into builder: inout InventoryBuilder, noteHost: (String) -> Void
    ) throws {
        guard !name.isEmpty else { throw error("empty group name") }
        let group = try builder.addGroup(name, at: origin)
        var data: [String: InventoryValue]
        switch rawData {
        case .dict(let d):
            data = d
            if d["hosts"] == nil && d["vars"] == nil && d["children"] == nil {
                // Ansible's legacy reading: an object without those keys is a host of that name with these vars.
                data = ["hosts": .list([.string(name)]), "vars": rawData]
            }
        default:
            data = ["hosts": rawData]
        }
        if let hosts = data["hosts"] {
            guard case .list(let list) = hosts else {
                throw error("'\(name).hosts' must be a list of host names, not \(hosts.kindDescription)")
            }
            for host in list {
                guard let hostName = host.stringValue else {
                    throw error("'\(name).hosts' contains \(host.kindDescription) (\(host)); host names are strings")
                }
                noteHost(hostName)
                try builder.addHost(hostName, group: group, port: nil, at: origin)
            }
        }
        if let vars = data["vars"] {
            guard case .dict(let dict) = vars else {
                throw error("'\(name).vars' must be an object, not \(vars.kindDescription)")
            }
            for (key, value) in dict.sortedByCodePoint() {
                try builder.setGroupVariable(group, key: key, value: value, at: origin)
            }
        }
        if let children = data["children"] {
            let names: [InventoryValue]
            switch children {
            case .list(let list): names = list
            case .dict(let dict): names = dict.keys.sorted().map { .string($0) }
            default: throw error("'\(name).children' must be a list of group names, not \(children.kindDescription)")
            }
            for child in names {
                guard let childName = child.stringValue, !childName.isEmpty else {
                    throw error("'\(name).children' contains \(child.kindDescription) (\(child)); group names are non-empty strings")
                }
                let childGroup = try builder.addGroup(childName, at: origin)
                try builder.addChild(parent: group, child: childGroup, at: origin)
            }
        }
    }
}
