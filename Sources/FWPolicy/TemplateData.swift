import FWTemplate

/// The data templates see for one host. Only facts go in here; every piece of output syntax lives in the
/// templates. `templates/README.md` documents each name.
enum TemplateData {
    static func host(_ firewall: HostFirewall, generator: String) -> TemplateValue {
        [
            "host": .string(firewall.host),
            "target": .string(firewall.target.rawValue),
            "generator": .string(generator),
            "defaultDrop": .bool(firewall.defaultAction == .drop),
            "defaultReject": .bool(firewall.defaultAction == .reject),
            "defaultAccept": .bool(firewall.defaultAction == .accept),
            "sshPort": .int(Int(firewall.sshPort)),
            "hasSets": .bool(!firewall.sets.isEmpty),
            "v4": family(.v4, of: firewall),
            "v6": family(.v6, of: firewall),
        ]
    }

    static func family(_ family: IPNetwork.Family, of firewall: HostFirewall) -> TemplateValue {
        let sets = firewall.sets(family)
        return [
            "ipv4": .bool(family == .v4),
            "ipv6": .bool(family == .v6),
            "rules": .list(firewall.rules(family).map(rule)),
            "sets": positioned(sets.map { set in
                ["name": .string(set.name), "elements": positioned(set.members.map { ["address": .string($0.description)] })]
            }),
            "hasSets": .bool(!sets.isEmpty),
        ]
    }

    static func rule(_ rule: FirewallRule) -> TemplateValue {
        let hasMatches = rule.kind == .management || rule.kind == .allow
        let singlePort = rule.ports.count == 1 && rule.ports[0].isSinglePort
        var matches: [TemplateValue] = []
        var addresses: [TemplateValue] = []
        var setName: TemplateValue = false
        if hasMatches {
            switch rule.sources {
            case .any:
                matches = [["address": false, "set": false]]
            case .set(let set):
                setName = .string(set.name)
                matches = [["address": false, "set": setName]]
            case .networks(let networks):
                for network in networks {
                    matches.append(["address": .string(network.description), "set": false])
                    addresses.append(["address": .string(network.description)])
                }
            }
        }
        let isAny: Bool = { if case .any = rule.sources { return true } else { return false } }()
        return [
            "management": .bool(rule.kind == .management),
            "loopback": .bool(rule.kind == .loopback),
            "established": .bool(rule.kind == .established),
            "neighbourDiscovery": .bool(rule.kind == .neighbourDiscovery),
            "allow": .bool(rule.kind == .allow),
            "hasMatches": .bool(hasMatches),
            "proto": .string(rule.proto.rawValue),
            "tcp": .bool(rule.proto == .tcp),
            "udp": .bool(rule.proto == .udp),
            "icmp": .bool(rule.proto == .icmp && rule.kind != .neighbourDiscovery),
            "anyProto": .bool(rule.proto == .any),
            "hasPorts": .bool(!rule.ports.isEmpty),
            "singlePort": .bool(singlePort),
            "multiport": .bool(!rule.ports.isEmpty && !singlePort),
            "port": singlePort ? .int(Int(rule.ports[0].low)) : false,
            "ports": positioned(rule.ports.map { range in
                ["low": .int(Int(range.low)), "high": .int(Int(range.high)), "range": .bool(!range.isSinglePort)]
            }),
            "interface": rule.interface.map(TemplateValue.string) ?? false,
            "comment": rule.comment.map(TemplateValue.string) ?? false,
            "commentHex": rule.comment.map { .string(hex($0)) } ?? false,
            "anySource": .bool(hasMatches && isAny),
            "set": setName,
            "hasAddresses": .bool(!addresses.isEmpty),
            "addresses": positioned(addresses),
            "matches": .list(matches),
            "icmpTypes": rule.kind == .neighbourDiscovery
                ? positioned(PolicyCompiler.neighbourDiscoveryTypes.map { ["type": .int($0.type), "name": .string($0.name)] })
                : .list([]),
        ]
    }

    /// A list whose items also carry `first` and `last`, so templates can place separators.
    static func positioned(_ items: [TemplateValue]) -> TemplateValue {
        .list(items.enumerated().map { index, item in
            guard case .object(var object) = item else { return item }
            object.set("first", .bool(index == 0))
            object.set("last", .bool(index == items.count - 1))
            return .object(object)
        })
    }

    /// UFW stores rule comments as the hex of their UTF-8 bytes.
    static func hex(_ text: String) -> String {
        let digits = Array("0123456789abcdef".utf8)
        var bytes: [UInt8] = []
        bytes.reserveCapacity(text.utf8.count * 2)
        for byte in text.utf8 {
            bytes.append(digits[Int(byte >> 4)])
            bytes.append(digits[Int(byte & 0xF)])
        }
        return String(decoding: bytes, as: UTF8.self)
    }
}
