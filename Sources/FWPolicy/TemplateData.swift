import FWTemplate
import Foundation

/// The data templates see for one host. Only facts go in here; every piece of output syntax lives in the
/// templates. `templates/README.md` documents each name.
///
/// Objects are built from fixed layouts (keys hashed once) and the per-address lists of source lists and sets are
/// built once per distinct list: a 10,000-host fleet renders hundreds of thousands of rule objects.
struct TemplateData {
    private let lists = AddressListTemplates()

    private static let hostLayout = TemplateObject.Layout([
        "host", "target", "generator", "defaultDrop", "defaultReject", "defaultAccept", "sshPort", "hasSets", "v4", "v6",
    ])
    private static let familyLayout = TemplateObject.Layout(["ipv4", "ipv6", "rules", "sets", "hasSets"])
    private static let setLayout = TemplateObject.Layout(["name", "elements", "first", "last"])
    private static let ruleLayout = TemplateObject.Layout([
        "management", "loopback", "established", "neighbourDiscovery", "allow", "hasMatches",
        "proto", "tcp", "udp", "icmp", "anyProto",
        "hasPorts", "singlePort", "multiport", "port", "ports", "portList",
        "interface", "comment", "commentHex",
        "anySource", "set", "hasAddresses", "addresses", "matches", "icmpTypes",
    ])
    private static let portLayout = TemplateObject.Layout(["low", "high", "range", "first", "last"])
    static let matchLayout = TemplateObject.Layout(["address", "set"])
    static let addressLayout = TemplateObject.Layout(["address", "first", "last"])
    private static let anyMatch: TemplateValue = .list([.object(TemplateObject(matchLayout, [false, false]))])
    private static let icmpTypes: TemplateValue = {
        let types = PolicyCompiler.neighbourDiscoveryTypes
        let layout = TemplateObject.Layout(["type", "first", "last"])
        return .list(types.enumerated().map { index, type in
            .object(TemplateObject(layout, [.int(type), .bool(index == 0), .bool(index == types.count - 1)]))
        })
    }()

    func host(_ firewall: HostFirewall, generator: String) -> TemplateValue {
        .object(TemplateObject(Self.hostLayout, [
            .string(firewall.host),
            .string(firewall.target.rawValue),
            .string(generator),
            .bool(firewall.defaultAction == .drop),
            .bool(firewall.defaultAction == .reject),
            .bool(firewall.defaultAction == .accept),
            .int(Int(firewall.sshPort)),
            .bool(!firewall.sets.isEmpty),
            family(.v4, of: firewall),
            family(.v6, of: firewall),
        ]))
    }

    func family(_ family: IPNetwork.Family, of firewall: HostFirewall) -> TemplateValue {
        let sets = firewall.sets(family)
        let setValues = sets.enumerated().map { index, set in
            TemplateValue.object(TemplateObject(Self.setLayout, [
                .string(set.name), lists.lists(for: set.members).addresses, .bool(index == 0), .bool(index == sets.count - 1),
            ]))
        }
        return .object(TemplateObject(Self.familyLayout, [
            .bool(family == .v4),
            .bool(family == .v6),
            .list(firewall.rules(family).map { rule($0) }),
            .list(setValues),
            .bool(!sets.isEmpty),
        ]))
    }

    func rule(_ rule: FirewallRule) -> TemplateValue {
        let hasMatches = rule.kind == .management || rule.kind == .allow
        let singlePort = rule.ports.count == 1 && rule.ports[0].isSinglePort
        var matches: TemplateValue = .list([])
        var addresses: TemplateValue = .list([])
        var hasAddresses = false
        var anySource = false
        var setName: TemplateValue = false
        if hasMatches {
            switch rule.sources {
            case .any:
                anySource = true
                matches = Self.anyMatch
            case .set(let set):
                setName = .string(set.name)
                matches = .list([.object(TemplateObject(Self.matchLayout, [false, setName]))])
            case .networks(let networks):
                let built = lists.lists(for: networks)
                matches = built.matches
                addresses = built.addresses
                hasAddresses = !networks.isEmpty
            }
        }
        let ports = rule.ports.enumerated().map { index, range in
            TemplateValue.object(TemplateObject(Self.portLayout, [
                .int(Int(range.low)), .int(Int(range.high)), .bool(!range.isSinglePort),
                .bool(index == 0), .bool(index == rule.ports.count - 1),
            ]))
        }
        return .object(TemplateObject(Self.ruleLayout, [
            .bool(rule.kind == .management),
            .bool(rule.kind == .loopback),
            .bool(rule.kind == .established),
            .bool(rule.kind == .neighbourDiscovery),
            .bool(rule.kind == .allow),
            .bool(hasMatches),
            .string(rule.proto.rawValue),
            .bool(rule.proto == .tcp),
            .bool(rule.proto == .udp),
            .bool(rule.proto == .icmp && rule.kind != .neighbourDiscovery),
            .bool(rule.proto == .any),
            .bool(!rule.ports.isEmpty),
            .bool(singlePort),
            .bool(!rule.ports.isEmpty && !singlePort),
            // Numbers as text: interpolated once per source line, formatting them each time would cost.
            singlePort ? .string(rule.ports[0].description) : false,
            .list(ports),
            rule.ports.isEmpty ? false : .string(rule.ports.map(\.description).joined(separator: ",")),
            rule.interface.map(TemplateValue.string) ?? false,
            rule.comment.map(TemplateValue.string) ?? false,
            rule.comment.map { .string(Self.hex($0)) } ?? false,
            .bool(anySource),
            setName,
            .bool(hasAddresses),
            addresses,
            matches,
            rule.kind == .neighbourDiscovery ? Self.icmpTypes : .list([]),
        ]))
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

/// The per-address lists of source lists and sets (`matches` and `addresses`/`elements`), built once per
/// distinct list. Thousands of hosts share a few hundred lists (a group's addresses), and formatting each address
/// into template objects for every host would dominate rendering a large fleet.
///
/// Lists are recognised by their array buffer: the address book hands every host the same array for the same
/// sources. Each entry keeps its array alive, so a buffer address cannot be reused by another list while cached.
final class AddressListTemplates: @unchecked Sendable {
    struct Lists {
        let networks: [IPNetwork]
        /// Items with `address` and `set` (false), one per address.
        let matches: TemplateValue
        /// Items with `address`, `first` and `last`.
        let addresses: TemplateValue
    }

    private struct Key: Hashable {
        let buffer: UInt
        let count: Int
    }

    private let lock = NSLock()
    private var cache: [Key: Lists] = [:]

    func lists(for networks: [IPNetwork]) -> Lists {
        let key = networks.withUnsafeBufferPointer { Key(buffer: UInt(bitPattern: $0.baseAddress), count: $0.count) }
        // The buffer finds the entry; the list itself decides (Array's == checks buffer identity first, so a real
        // hit costs no comparison of addresses).
        if let hit = lock.withLock({ cache[key] }), hit.networks == networks { return hit }
        let texts = networks.map { TemplateValue.string($0.description) }
        let lists = Lists(
            networks: networks,
            matches: .list(texts.map { .object(TemplateObject(TemplateData.matchLayout, [$0, false])) }),
            addresses: .list(texts.enumerated().map { index, text in
                .object(TemplateObject(TemplateData.addressLayout, [text, .bool(index == 0), .bool(index == texts.count - 1)]))
            }))
        if !networks.isEmpty { lock.withLock { cache[key] = lists } }
        return lists
    }
}
