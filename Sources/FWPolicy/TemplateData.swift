import FWBase
import FWTemplate
import Foundation

/// The data templates see for one host. Only facts go in here; every piece of output syntax lives in the
/// templates. `templates/README.md` documents each name.
///
/// Objects are keyed by enums (`TemplateObject.Keyed`: a value is set under its name, keys hashed once) and the
/// per-address lists of source lists and sets are built once per distinct list: a 10,000-host fleet renders
/// hundreds of thousands of rule objects.
struct TemplateData {
    private let lists = AddressListTemplates()

    enum HostKey: String, CaseIterable {
        case host, target, generator, defaultDrop, defaultReject, defaultAccept, sshPort, hasSets, v4, v6
    }
    enum FamilyKey: String, CaseIterable {
        case ipv4, ipv6, rules, sets, hasSets
    }
    enum SetKey: String, CaseIterable {
        case name, elements, first, last
    }
    enum RuleKey: String, CaseIterable {
        case management, loopback, established, neighbourDiscovery, allow, hasMatches
        case proto, tcp, udp, icmp, anyProto
        case hasPorts, singlePort, multiport, port, ports, portList
        case interface, comment, commentHex
        case anySource, set, hasAddresses, addresses, matches, icmpTypes
    }
    enum PortKey: String, CaseIterable {
        case low, high, range, first, last
    }
    enum MatchKey: String, CaseIterable {
        case address, set
    }
    enum AddressKey: String, CaseIterable {
        case address, first, last
    }
    enum ICMPTypeKey: String, CaseIterable {
        case type, first, last
    }

    private static let hostObject = TemplateObject.Keyed<HostKey>()
    private static let familyObject = TemplateObject.Keyed<FamilyKey>()
    private static let setObject = TemplateObject.Keyed<SetKey>()
    private static let ruleObject = TemplateObject.Keyed<RuleKey>()
    private static let portObject = TemplateObject.Keyed<PortKey>()
    static let matchObject = TemplateObject.Keyed<MatchKey>()
    static let addressObject = TemplateObject.Keyed<AddressKey>()

    private static let anyMatch: TemplateValue = .list([.object(matchObject.object { $0[.address] = false; $0[.set] = false })])
    private static let icmpTypes: TemplateValue = {
        let types = PolicyCompiler.neighbourDiscoveryTypes
        let icmpTypeObject = TemplateObject.Keyed<ICMPTypeKey>()
        return .list(types.enumerated().map { index, type in
            .object(icmpTypeObject.object { item in
                item[.type] = .int(type)
                item[.first] = .bool(index == 0)
                item[.last] = .bool(index == types.count - 1)
            })
        })
    }()

    func host(_ firewall: HostFirewall, generator: String) -> TemplateValue {
        .object(Self.hostObject.object { host in
            host[.host] = .string(firewall.host)
            host[.target] = .string(firewall.target.rawValue)
            host[.generator] = .string(generator)
            host[.defaultDrop] = .bool(firewall.defaultAction == .drop)
            host[.defaultReject] = .bool(firewall.defaultAction == .reject)
            host[.defaultAccept] = .bool(firewall.defaultAction == .accept)
            host[.sshPort] = .int(Int(firewall.sshPort))
            host[.hasSets] = .bool(!firewall.sets.isEmpty)
            host[.v4] = family(.v4, of: firewall)
            host[.v6] = family(.v6, of: firewall)
        })
    }

    func family(_ family: IPNetwork.Family, of firewall: HostFirewall) -> TemplateValue {
        let sets = firewall.sets(family)
        let setValues = sets.enumerated().map { index, set in
            TemplateValue.object(Self.setObject.object { item in
                item[.name] = .string(set.name)
                item[.elements] = lists.lists(for: set.members).addresses
                item[.first] = .bool(index == 0)
                item[.last] = .bool(index == sets.count - 1)
            })
        }
        return .object(Self.familyObject.object { item in
            item[.ipv4] = .bool(family == .v4)
            item[.ipv6] = .bool(family == .v6)
            item[.rules] = .list(firewall.rules(family).map { rule($0) })
            item[.sets] = .list(setValues)
            item[.hasSets] = .bool(!sets.isEmpty)
        })
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
                matches = .list([.object(Self.matchObject.object { $0[.address] = false; $0[.set] = setName })])
            case .networks(let networks):
                let built = lists.lists(for: networks)
                matches = built.matches
                addresses = built.addresses
                hasAddresses = !networks.isEmpty
            }
        }
        let ports = rule.ports.enumerated().map { index, range in
            TemplateValue.object(Self.portObject.object { port in
                port[.low] = .int(Int(range.low))
                port[.high] = .int(Int(range.high))
                port[.range] = .bool(!range.isSinglePort)
                port[.first] = .bool(index == 0)
                port[.last] = .bool(index == rule.ports.count - 1)
            })
        }
        return .object(Self.ruleObject.object { item in
            item[.management] = .bool(rule.kind == .management)
            item[.loopback] = .bool(rule.kind == .loopback)
            item[.established] = .bool(rule.kind == .established)
            item[.neighbourDiscovery] = .bool(rule.kind == .neighbourDiscovery)
            item[.allow] = .bool(rule.kind == .allow)
            item[.hasMatches] = .bool(hasMatches)
            item[.proto] = .string(rule.proto.rawValue)
            item[.tcp] = .bool(rule.proto == .tcp)
            item[.udp] = .bool(rule.proto == .udp)
            item[.icmp] = .bool(rule.proto == .icmp && rule.kind != .neighbourDiscovery)
            item[.anyProto] = .bool(rule.proto == .any)
            item[.hasPorts] = .bool(!rule.ports.isEmpty)
            item[.singlePort] = .bool(singlePort)
            item[.multiport] = .bool(!rule.ports.isEmpty && !singlePort)
            // Numbers as text: interpolated once per source line, formatting them each time would cost.
            item[.port] = singlePort ? .string(rule.ports[0].description) : false
            item[.ports] = .list(ports)
            item[.portList] = rule.ports.isEmpty ? false : .string(rule.ports.map(\.description).joined(separator: ","))
            item[.interface] = rule.interface.map(TemplateValue.string) ?? false
            item[.comment] = rule.comment.map(TemplateValue.string) ?? false
            item[.commentHex] = rule.comment.map { .string(Self.hex($0)) } ?? false
            item[.anySource] = .bool(anySource)
            item[.set] = setName
            item[.hasAddresses] = .bool(hasAddresses)
            item[.addresses] = addresses
            item[.matches] = matches
            item[.icmpTypes] = rule.kind == .neighbourDiscovery ? Self.icmpTypes : .list([])
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

/// The per-address lists of source lists and sets (`matches` and `addresses`/`elements`), built once per
/// distinct list. Thousands of hosts share a few hundred lists (a group's addresses), and formatting each address
/// into template objects for every host would dominate rendering a large fleet.
///
/// Lists are recognised by their array buffer: the address book hands every host the same array for the same
/// sources. Each entry keeps its array alive, so a buffer address cannot be reused by another list while cached.
final class AddressListTemplates: Sendable {
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

    private let cache = Locked<[Key: Lists]>([:])

    func lists(for networks: [IPNetwork]) -> Lists {
        let key = networks.withUnsafeBufferPointer { Key(buffer: UInt(bitPattern: $0.baseAddress), count: $0.count) }
        // The buffer finds the entry; the list itself decides (Array's == checks buffer identity first, so a real
        // hit costs no comparison of addresses).
        if let hit = cache.withLock({ $0[key] }), hit.networks == networks { return hit }
        let texts = networks.map { TemplateValue.string($0.description) }
        let lists = Lists(
            networks: networks,
            matches: .list(texts.map { text in
                .object(TemplateData.matchObject.object { $0[.address] = text; $0[.set] = false })
            }),
            addresses: .list(texts.enumerated().map { index, text in
                .object(TemplateData.addressObject.object { item in
                    item[.address] = text
                    item[.first] = .bool(index == 0)
                    item[.last] = .bool(index == texts.count - 1)
                })
            }))
        if !networks.isEmpty { cache.withLock { $0[key] = lists } }
        return lists
    }
}
