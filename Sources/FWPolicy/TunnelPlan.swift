import FWInventory

/// One reverse tunnel of the `tunnels` list, validated and resolved to addresses: the one model both the firewall
/// side (home's rules, `check`) and `fwctl tunnel install` use, so the tunnel's allowlist and home's firewall are
/// computed by the same code from the same entries.
///
/// Contract: a `tunnels` var (a list) on a group or host; the lists of all scopes accumulate (each scope's entries
/// once, however many hosts share the scope), as `firewall.allow` does over a host's groups. An entry counts only in
/// a scope of its home (a group the home is in, or the home itself): it opens ports on the home.
public struct TunnelPlan: Sendable, Hashable {
    public var name: String
    /// The inventory host outside the firewall: clients and agents connect to it.
    public var home: String
    /// The inventory hosts behind it, each running one agent that dials out to home.
    public var work: [String]
    /// Where work connects for each client, as `host:port` (`[v6]:port`).
    public var service: String
    public var clientPort: UInt16
    public var controlPort: UInt16
    public var tls: Bool
    public var proxyProtocol: Bool
    /// The client allowlist, resolved like a firewall rule's sources: normalised networks of both families.
    public var allowlist: [IPNetwork]
    /// The work hosts' addresses: the only sources home's control port is open to.
    public var workAddresses: [IPNetwork]
    /// home's address as work dials it (its first inventory address).
    public var homeAddress: IPNetwork
    public var origin: HostPolicy.Origin

    /// `file:line scope tunnels[i]`, for messages naming the tunnel.
    public var label: String { "tunnel '\(name)' (\(origin))" }

    /// The allowlist as the sources of a rule (any when it covers a whole family).
    var allowSources: ResolvedSources { ResolvedSources(allowlist) }
    var workSources: ResolvedSources { ResolvedSources(workAddresses) }
}

extension ResolvedSources {
    init(_ networks: [IPNetwork]) {
        self.init()
        add(networks)
    }
}

/// Every tunnel of an inventory and every problem with the `tunnels` lists, found in one pass.
public struct TunnelCatalog: Sendable {
    public var tunnels: [TunnelPlan]
    /// Each problem with the scope that holds the offending entry (a host reports the problems of its scopes).
    public var problems: [(owner: VarOwner, error: PolicyError)]

    public var errors: [PolicyError] { problems.map(\.error) }

    /// The tunnels whose home is `host`.
    public func tunnels(home host: String) -> [TunnelPlan] { tunnels.filter { $0.home == host } }
    /// The tunnels `host` is a work host of.
    public func tunnels(work host: String) -> [TunnelPlan] { tunnels.filter { $0.work.contains(host) } }

    /// The problems a host reports: those of entries in its own scopes.
    func problems(of vars: HostVars) -> [PolicyError] {
        let owners = Set(vars.scopes.map(\.owner))
        return problems.filter { owners.contains($0.owner) }.map { problem in
            var error = problem.error
            error.host = vars.host
            return error
        }
    }
}

/// Reads and validates the `tunnels` lists of every scope of an inventory.
enum TunnelReader {
    static let keys = ["name", "home", "work", "service", "client_port", "control_port", "allow", "tls", "proxy_protocol"]
    static let maxNameBytes = 32

    static func catalog(book: AddressBook, hosts: [String]) -> TunnelCatalog {
        var seenScopes = Set<VarOwner>()
        var problems: [(owner: VarOwner, error: PolicyError)] = []
        var plans: [TunnelPlan] = []
        // Ports each home already gives a tunnel: port -> the tunnel holding it.
        var portsByHome: [String: [UInt16: TunnelPlan]] = [:]
        var byName: [String: TunnelPlan] = [:]
        for host in hosts {
            guard let vars = book.vars(ofHost: host) else { continue }
            for scope in vars.scopes where seenScopes.insert(scope.owner).inserted {
                guard let value = scope.vars["tunnels"], !value.isNull else { continue }
                let location = scope.location(of: "tunnels")
                let scopeName = "\(scope.owner)"
                var errors: [PolicyError] = []
                defer { problems += errors.map { (scope.owner, $0) } }
                guard let list = value.listValue else {
                    errors.append(PolicyError(location: location, path: "tunnels", scope: scopeName,
                                              message: "must be a list of tunnels, not \(value.kindDescription)"))
                    continue
                }
                for (index, item) in list.enumerated() {
                    let origin = HostPolicy.Origin(scope: scopeName, location: location, path: "tunnels[\(index)]")
                    guard var plan = read(item, origin: origin, book: book, errors: &errors) else { continue }
                    func fail(_ path: String, _ message: String, hint: String? = nil) {
                        errors.append(PolicyError(location: location, path: "\(origin.path).\(path)", scope: scopeName,
                                                  message: message, hint: hint))
                    }
                    var ok = true
                    // A tunnel opens ports on its home: like the home's own firewall rules, it must come from a scope
                    // of the home (the vars of a group it is in, or its own), or one host's vars could open ports on
                    // another host.
                    if let homeVars = book.vars(ofHost: plan.home), !homeVars.scopes.contains(where: { $0.owner == scope.owner }) {
                        fail("home", "tunnel '\(plan.name)' is in the vars of \(scope.owner), which are not vars of its home '\(plan.home)': a tunnel opens ports on its home, so only the home's vars may hold it",
                             hint: "move it to vars the home has: a group '\(plan.home)' is in (group_vars/all.yml, for instance) or host_vars/\(plan.home).yml")
                        ok = false
                    }
                    if ok, let other = byName[plan.name] {
                        fail("name", "'\(plan.name)' names another tunnel too: \(other.label)", hint: "give each tunnel its own name")
                        ok = false
                    }
                    for (label, port) in [("client_port", plan.clientPort), ("control_port", plan.controlPort)] where ok {
                        if let other = portsByHome[plan.home]?[port] {
                            fail(label, "port \(port) on home '\(plan.home)' is already used by \(other.label)",
                                 hint: "give every tunnel of one home its own client and control ports")
                            ok = false
                        }
                    }
                    guard ok else { continue }
                    plan.origin = origin
                    byName[plan.name] = plan
                    portsByHome[plan.home, default: [:]][plan.clientPort] = plan
                    portsByHome[plan.home, default: [:]][plan.controlPort] = plan
                    plans.append(plan)
                }
            }
        }
        return TunnelCatalog(tunnels: plans, problems: problems)
    }

    /// One entry; nil (with its problems in `errors`) when it is unusable.
    private static func read(_ item: InventoryValue, origin: HostPolicy.Origin, book: AddressBook,
                             errors: inout [PolicyError]) -> TunnelPlan? {
        let errorCount = errors.count
        func fail(_ key: String?, _ message: String, hint: String? = nil) {
            errors.append(PolicyError(location: origin.location, path: key.map { "\(origin.path).\($0)" } ?? origin.path,
                                      scope: origin.scope, message: message, hint: hint))
        }
        guard let table = item.dictValue else {
            fail(nil, "must be a mapping with \(keys.joined(separator: ", ")); not \(item.kindDescription)")
            return nil
        }
        for key in table.keys.sorted() where !keys.contains(key) {
            fail(key, "unknown key", hint: "known keys: \(keys.joined(separator: ", "))")
        }
        func required(_ key: String) -> InventoryValue? {
            guard let value = table[key], !value.isNull else {
                fail(nil, "has no '\(key)'")
                return nil
            }
            return value
        }

        var name = ""
        if let value = required("name") {
            if let text = value.stringValue, isPlainName(text) {
                name = text
            } else {
                fail("name", "\(value) is not a tunnel name", hint: "use 1 to \(maxNameBytes) letters, digits, '-' and '_', starting with a letter or digit")
            }
        }

        var home = ""
        var homeAddress: IPNetwork?
        if let value = required("home") {
            if let text = value.stringValue, book.isHost(text) {
                home = text
                do {
                    homeAddress = try book.addresses(ofHost: text).first
                } catch {
                    fail("home", "host '\(text)' has no usable address (\(error.message)), so work cannot dial it")
                }
            } else if let text = value.stringValue, book.isGroup(text) {
                fail("home", "'\(text)' is a group; home is one inventory host", hint: "name the host outside the firewall")
            } else {
                fail("home", "\(value) is not a host in the inventory", hint: "check the spelling; `fwctl inventory --graph` lists the hosts")
            }
        }

        var work: [String] = []
        var workAddresses: [IPNetwork] = []
        if let value = required("work") {
            let items: [InventoryValue] = value.listValue ?? [value]
            if items.isEmpty { fail("work", "is empty", hint: "name the host (or hosts) behind the firewall that run the agent") }
            for (index, entry) in items.enumerated() {
                let path = value.listValue == nil ? "work" : "work[\(index)]"
                guard let text = entry.stringValue, book.isHost(text) else {
                    if let text = entry.stringValue, book.isGroup(text) {
                        fail(path, "'\(text)' is a group; list the work hosts by name")
                    } else {
                        fail(path, "\(entry) is not a host in the inventory", hint: "check the spelling; `fwctl inventory --graph` lists the hosts")
                    }
                    continue
                }
                if text == home {
                    fail(path, "'\(text)' is the tunnel's home; work is a host behind the firewall, home one outside it")
                    continue
                }
                if work.contains(text) { fail(path, "'\(text)' is listed twice"); continue }
                work.append(text)
                do {
                    workAddresses += try book.addresses(ofHost: text)
                } catch {
                    fail(path, "host '\(text)' has no usable address (\(error.message)), so home's control port cannot be opened to it")
                }
            }
        }

        var service = ""
        if let value = required("service") {
            if let text = value.stringValue, isServiceAddress(text) {
                service = text
            } else {
                fail("service", "\(value) is not a service address", hint: "write host:port as seen from work, e.g. 127.0.0.1:22 or [::1]:22")
            }
        }

        func port(_ key: String) -> UInt16? {
            guard let value = required(key) else { return nil }
            let number: Int?
            switch value {
            case .int(let n): number = n
            case .string(let text), .unsafe(let text): number = Int(text)
            default: number = nil
            }
            guard let number, (1...65535).contains(number) else {
                fail(key, "\(value) is not a TCP port (1-65535)")
                return nil
            }
            return UInt16(number)
        }
        let clientPort = port("client_port")
        let controlPort = port("control_port")
        if let clientPort, clientPort == controlPort {
            fail("control_port", "is the client port too (\(clientPort)); clients and agents need ports of their own")
        }
        if !home.isEmpty, let sshPort = try? book.sshPort(ofHost: home) {
            for (key, value) in [("client_port", clientPort), ("control_port", controlPort)] where value == sshPort {
                fail(key, "port \(sshPort) is home's SSH port", hint: "pick a port nothing else on '\(home)' listens on")
            }
        }

        func flag(_ key: String, default fallback: Bool) -> Bool {
            guard let value = table[key], !value.isNull else { return fallback }
            if case .bool(let flag) = value { return flag }
            fail(key, "must be true or false, not \(value)")
            return fallback
        }
        let tls = flag("tls", default: true)
        let proxyProtocol = flag("proxy_protocol", default: false)

        var allowlist: [IPNetwork] = []
        if let value = required("allow") {
            let sourceOrigin = HostPolicy.Origin(scope: origin.scope, location: origin.location, path: "\(origin.path).allow")
            var sourceErrors: [PolicyError] = []
            let entries = HostPolicyReader.sourceList(value, origin: sourceOrigin) { path, message, hint in
                sourceErrors.append(PolicyError(location: origin.location, path: path, scope: origin.scope, message: message, hint: hint))
            }
            errors += sourceErrors
            if let entries, entries.isEmpty {
                fail("allow", "is empty, so the tunnel would admit no client", hint: "name who may connect: groups, hosts, addresses or networks")
            } else if let entries {
                let resolved = PolicyCompiler.resolve(entries, host: home, book: book, errors: &errors)
                allowlist = resolved.any ? [IPNetwork.v4(address: 0, prefix: 0), .v6(address: 0, prefix: 0)]
                    : resolved.networks(.v4) + resolved.networks(.v6)
                if allowlist.isEmpty && errors.count == errorCount {
                    fail("allow", "resolves to no address, so the tunnel would admit no client")
                }
            }
        }
        guard errors.count == errorCount, let clientPort, let controlPort, let homeAddress else { return nil }
        return TunnelPlan(name: name, home: home, work: work, service: service, clientPort: clientPort,
                          controlPort: controlPort, tls: tls, proxyProtocol: proxyProtocol, allowlist: allowlist,
                          workAddresses: IPNetwork.normalised(workAddresses.filter { $0.family == .v4 })
                              + IPNetwork.normalised(workAddresses.filter { $0.family == .v6 }),
                          homeAddress: homeAddress, origin: origin)
    }

    /// Tunnel names become file, unit and service names on the hosts: plain characters only.
    static func isPlainName(_ text: String) -> Bool {
        let bytes = Array(text.utf8)
        guard (1...maxNameBytes).contains(bytes.count), let first = bytes.first, isAlphanumeric(first) else { return false }
        return bytes.allSatisfy { isAlphanumeric($0) || $0 == 0x2D || $0 == 0x5F }
    }

    static func isAlphanumeric(_ byte: UInt8) -> Bool {
        (byte >= 0x30 && byte <= 0x39) || (byte >= 0x41 && byte <= 0x5A) || (byte >= 0x61 && byte <= 0x7A)
    }

    /// `host:port` or `[v6]:port` with a plain host (letters, digits, `.`, `-`, and `:` inside brackets).
    static func isServiceAddress(_ text: String) -> Bool {
        guard let colon = text.lastIndex(of: ":"), let port = Int(text[text.index(after: colon)...]), (1...65535).contains(port) else { return false }
        var host = Substring(text[..<colon])
        if host.hasPrefix("[") {
            guard host.hasSuffix("]"), host.count > 2 else { return false }
            host = host.dropFirst().dropLast()
            return host.utf8.allSatisfy { isAlphanumeric($0) || $0 == 0x3A || $0 == 0x2E }
        }
        guard !host.isEmpty, host.utf8.count <= 253 else { return false }
        return host.utf8.allSatisfy { isAlphanumeric($0) || $0 == 0x2E || $0 == 0x2D }
    }
}
