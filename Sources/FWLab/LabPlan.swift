import FWInventory
import FWPolicy

/// One lab host as the inventory describes it: what `lab up` builds, and what it compares to decide whether a
/// host that is already up has changed.
public struct LabHostPlan: Codable, Sendable, Equatable {
    /// The inventory name.
    public var name: String
    /// Its addresses (ansible_host first, then fw_addresses), canonical text.
    public var addresses: [String]
    /// The port its sshd listens on (ansible_port, else 22).
    public var port: Int
    /// The account deploy logs in as (ansible_user); nil means root, as for the machine's own user.
    public var user: String?

    public init(name: String, addresses: [String], port: Int, user: String?) {
        self.name = name
        self.addresses = addresses
        self.port = port
        self.user = user
    }

    var networks: [IPNetwork] { addresses.compactMap { try? IPNetwork(parsing: $0) } }
}

/// What a lab should hold: the selected hosts and the controller's addresses.
public struct LabPlan: Sendable {
    public var hosts: [LabHostPlan]
    public var controllerAddresses: [String]

    /// Reads each host's addresses through the policy's address book (the addresses its rules are written for)
    /// and its port and user from the inventory's connection settings. The controller gets `controller` when
    /// given, else a free address inside a management network of the policy (see `defaultController`).
    public static func make(inventory: Inventory, hosts selected: [InventoryHost], controller: [String]) throws(LabInputError) -> LabPlan {
        let book = AddressBook(inventory: inventory)
        var problems: [String] = []
        var hosts: [LabHostPlan] = []
        var owner: [IPNetwork: String] = [:]
        for host in selected {
            guard let vars = book.vars(ofHost: host.name) else { continue }
            let connection: Connection
            let addresses: [IPNetwork]
            do {
                connection = try inventory.connection(from: vars)
                addresses = try book.addresses(ofHost: host.name)
            } catch {
                problems.append("\(error)")
                continue
            }
            for address in addresses {
                if let kind = Self.unusableKind(address) {
                    problems.append("host '\(host.name)' has the address \(address), \(kind): a lab host needs an address it can have on a network link")
                }
                if let other = owner[address] {
                    problems.append("hosts '\(other)' and '\(host.name)' both have the address \(address); a lab host needs addresses of its own")
                }
                owner[address] = host.name
            }
            if let user = connection.user, user != "root", !LabAccounts.isValidUserName(user) {
                problems.append("ansible_user of host '\(host.name)' (\(user.debugDescription)) is not a user name the lab can create: use lowercase letters, digits, '_' and '-', starting with a letter or '_'")
            }
            hosts.append(LabHostPlan(name: host.name, addresses: addresses.map(\.addressText), port: connection.effectivePort,
                                     user: connection.user == "root" ? nil : connection.user))
        }
        guard problems.isEmpty else {
            throw LabInputError(problems.joined(separator: "\n"), hint: problems.count == 1 ? nil : "\(problems.count) problems")
        }
        var controllerAddresses: [String] = []
        if controller.isEmpty {
            controllerAddresses = defaultController(inventory: inventory, book: book, hosts: selected.map(\.name), taken: Set(owner.keys),
                                                    families: Set(owner.keys.map(\.family))).map(\.addressText)
        } else {
            for text in controller {
                do {
                    let network = try IPNetwork(parsing: text)
                    guard network.isSingleAddress else {
                        throw LabInputError("--controller \(text) is a network; give one address (no /prefix)")
                    }
                    if let host = owner[network] {
                        throw LabInputError("--controller \(text) is the address of host '\(host)'")
                    }
                    controllerAddresses.append(network.addressText)
                } catch let error as LabInputError {
                    throw error
                } catch {
                    throw LabInputError("--controller: \(error)")
                }
            }
        }
        return LabPlan(hosts: hosts, controllerAddresses: controllerAddresses)
    }

    /// Why an address cannot be a lab host's (or nil when it can): loopback, link-local, multicast, unspecified.
    static func unusableKind(_ address: IPNetwork) -> String? {
        let ranges: [(String, String)] = [
            ("0.0.0.0/8", "an unspecified address"), ("127.0.0.0/8", "a loopback address"), ("169.254.0.0/16", "a link-local address"),
            ("224.0.0.0/4", "a multicast address"), ("255.255.255.255/32", "the broadcast address"),
            ("::/128", "the unspecified address"), ("::1/128", "the loopback address"), ("fe80::/10", "a link-local address"),
            ("ff00::/8", "a multicast address"),
        ]
        for (text, kind) in ranges {
            if let network = try? IPNetwork(parsing: text), network.contains(address) { return kind }
        }
        return nil
    }

    /// The controller stands where the operators do: per address family the lab uses, the first free address of
    /// the first management network (a CIDR, not a host) the selected hosts' compiled policies name, else a
    /// management address that is no host's, else an address of the benchmarking ranges (198.18.0.0/15,
    /// 2001:2::/48), which no policy should trust.
    static func defaultController(inventory: Inventory, book: AddressBook, hosts: [String], taken: Set<IPNetwork>,
                                  families: Set<IPNetwork.Family>) -> [IPNetwork] {
        let compiler = PolicyCompiler()
        var networks: [IPNetwork] = []
        var singles: [IPNetwork] = []
        for host in hosts {
            guard let firewall = try? compiler.compile(host: host, addressBook: book) else { continue }
            for rule in firewall.rules where rule.kind == .management {
                let sources: [IPNetwork]
                switch rule.sources {
                case .any: sources = []
                case .networks(let list): sources = list
                case .set(let set): sources = set.members
                }
                for source in sources {
                    if source.isSingleAddress {
                        if !taken.contains(source) && !singles.contains(source) { singles.append(source) }
                    } else if !networks.contains(source) {
                        networks.append(source)
                    }
                }
            }
        }
        var result: [IPNetwork] = []
        for family in IPNetwork.Family.allCases where families.contains(family) {
            let fallback: IPNetwork = family == .v4 ? .v4(address: 0xC612_0000, prefix: 15) : .v6(address: UInt128(0x2001_0002) << 96, prefix: 48)
            if let network = networks.first(where: { $0.family == family }), let address = firstFreeAddress(in: network, taken: taken) {
                result.append(address)
            } else if let single = singles.first(where: { $0.family == family }) {
                result.append(single)
            } else if let address = firstFreeAddress(in: fallback, taken: taken) {
                result.append(address)
            }
        }
        return result
    }

    /// The first address after the network address (the network address itself for a /31, /32, /127, /128)
    /// that no host uses, trying at most 4096.
    static func firstFreeAddress(in network: IPNetwork, taken: Set<IPNetwork>) -> IPNetwork? {
        switch network {
        case .v4(let base, let prefix):
            let size: UInt64 = 1 << (32 - UInt64(prefix))
            let start: UInt64 = size > 2 ? 1 : 0
            for offset in start..<min(size, 4096) {
                let candidate = IPNetwork.v4(address: base + UInt32(offset), prefix: 32)
                if !taken.contains(candidate) { return candidate }
            }
        case .v6(let base, let prefix):
            let start: UInt128 = prefix < 127 ? 1 : 0
            let count: UInt128 = prefix >= 116 ? (UInt128(1) << (128 - UInt128(prefix))) : 4096
            for offset in start..<count {
                let candidate = IPNetwork.v6(address: base + offset, prefix: 128)
                if !taken.contains(candidate) { return candidate }
            }
        }
        return nil
    }
}
