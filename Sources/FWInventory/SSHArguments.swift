/// What fwctl takes from `ansible_ssh_common_args` and `ansible_ssh_extra_args`: the jump hosts (`-J`,
/// `-o ProxyJump=`, `-o ProxyCommand="ssh -W %h:%p ..."`) and, for everything else, a warning naming the option,
/// since fwctl talks SSH itself and does not run ssh with these arguments.
struct SSHArguments: Equatable {
    /// One hop as written: `[user@]host[:port]`.
    struct Hop: Equatable {
        var user: String?
        var host: String
        var port: Int?
        var identityFile: String?
    }

    /// nil: the arguments say nothing about jumps; empty: they say none (`ProxyJump=none`).
    var jumps: [Hop]?
    /// Each: what was not honoured and why.
    var warnings: [String] = []

    /// ssh options that take an argument (so the word after them belongs to them).
    private static let optionsWithArgument = Set("BbcDEeFIiJLlmOoPpQRSWw")

    /// Parses the words of one variable (`variable` names it in messages). A first jump setting wins over later
    /// ones, as in ssh, and a later one is reported.
    mutating func parse(_ words: [String], variable: String) throws(SSHArgumentError) {
        var index = 0
        while index < words.count {
            let word = words[index]
            index += 1
            func argument(_ option: Character) throws(SSHArgumentError) -> String {
                let attached = String(word.dropFirst(2))
                if !attached.isEmpty { return attached }
                guard index < words.count else { throw SSHArgumentError("\(variable): -\(option) needs a value") }
                defer { index += 1 }
                return words[index]
            }
            guard word.hasPrefix("-"), word.count >= 2 else {
                warnings.append("\(variable): '\(word)' is not an ssh option; ignored")
                continue
            }
            let letter = word[word.index(after: word.startIndex)]
            switch letter {
            case "J":
                let value = try argument("J")
                setJumps(try Self.hops(value, from: "-J \(value)"), from: "-J \(value)", variable: variable)
            case "o":
                let setting = try argument("o")
                let (key, value) = Self.keyValue(setting)
                switch key.lowercased() {
                case "proxyjump":
                    setJumps(value.lowercased() == "none" ? [] : try Self.hops(value, from: "ProxyJump=\(value)"),
                             from: "-o ProxyJump=\(value)", variable: variable)
                case "proxycommand":
                    if value.lowercased() == "none" {
                        setJumps([], from: "-o ProxyCommand=none", variable: variable)
                    } else if let hops = try Self.proxyCommandHops(value) {
                        setJumps(hops, from: "-o ProxyCommand=\(value)", variable: variable)
                    } else {
                        warnings.append("\(variable): -o ProxyCommand=\(value) is not honoured: fwctl understands only `ssh -W %h:%p [-p PORT] [-l USER] [-i KEY] [-J JUMP] [user@]host`; the host is connected to without it")
                    }
                default:
                    warnings.append("\(variable): -o \(setting) is not honoured (fwctl does not run ssh; only ProxyJump and ProxyCommand are used)")
                }
            default:
                var shown = word
                if Self.optionsWithArgument.contains(letter), word.count == 2, index < words.count {
                    shown += " " + words[index]
                    index += 1
                }
                warnings.append("\(variable): \(shown) is not honoured (fwctl does not run ssh; only -J, -o ProxyJump and -o ProxyCommand are used)")
            }
        }
    }

    private mutating func setJumps(_ hops: [Hop], from option: String, variable: String) {
        if jumps == nil {
            jumps = hops
        } else {
            warnings.append("\(variable): \(option) is ignored: an earlier jump setting applies (ssh uses the first)")
        }
    }

    /// `Key=Value`, `Key Value` or `Key = Value`.
    private static func keyValue(_ setting: String) -> (String, String) {
        if let equals = setting.firstIndex(of: "=") {
            let key = String(setting[..<equals]).trimmingSpaces
            if !key.contains(where: { $0 == " " || $0 == "\t" }) {
                return (key, String(setting[setting.index(after: equals)...]).trimmingSpaces)
            }
        }
        let parts = setting.trimmingSpaces.split(maxSplits: 1, whereSeparator: { $0 == " " || $0 == "\t" })
        return (parts.first.map(String.init) ?? "", parts.count > 1 ? String(parts[1]).trimmingSpaces : "")
    }

    /// `a,b:2222,user@c`, `ssh://user@host:port`, `[2001:db8::1]:22`.
    static func hops(_ list: String, from option: String) throws(SSHArgumentError) -> [Hop] {
        var hops: [Hop] = []
        for part in list.split(separator: ",", omittingEmptySubsequences: false) {
            var text = String(part).trimmingSpaces
            if text.hasPrefix("ssh://") { text = String(text.dropFirst(6)); if text.hasSuffix("/") { text.removeLast() } }
            guard !text.isEmpty else { throw SSHArgumentError("\(option): an empty jump host") }
            var user: String?
            if let at = text.lastIndex(of: "@") {
                user = String(text[..<at])
                text = String(text[text.index(after: at)...])
                guard !(user!.isEmpty) else { throw SSHArgumentError("\(option): an empty user name before '@'") }
            }
            var host = text
            var port: Int?
            if text.hasPrefix("[") {
                guard let close = text.firstIndex(of: "]") else { throw SSHArgumentError("\(option): '[' without ']' in '\(text)'") }
                host = String(text[text.index(after: text.startIndex)..<close])
                let rest = text[text.index(after: close)...]
                if !rest.isEmpty {
                    guard rest.hasPrefix(":") else { throw SSHArgumentError("\(option): unexpected '\(rest)' after ']'") }
                    port = try portNumber(String(rest.dropFirst()), option)
                }
            } else if text.filter({ $0 == ":" }).count == 1, let colon = text.firstIndex(of: ":") {
                host = String(text[..<colon])
                port = try portNumber(String(text[text.index(after: colon)...]), option)
            }
            guard !host.isEmpty, !host.contains(where: { $0 == " " || $0 == "\t" || $0 == "/" }) else {
                throw SSHArgumentError("\(option): '\(host)' is not a host name or address")
            }
            hops.append(Hop(user: user, host: host, port: port))
        }
        return hops
    }

    private static func portNumber(_ text: String, _ option: String) throws(SSHArgumentError) -> Int {
        guard !text.isEmpty, text.utf8.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }), let port = Int(text), (1...65535).contains(port) else {
            throw SSHArgumentError("\(option): '\(text)' is not a port number (1-65535)")
        }
        return port
    }

    /// The hops of `ssh [-q] -W %h:%p [-p PORT] [-l USER] [-i KEY] [-J JUMP] [user@]host`, or nil for any other
    /// command (which fwctl cannot run in its place).
    static func proxyCommandHops(_ command: String) throws(SSHArgumentError) -> [Hop]? {
        guard let words = try? ShellWords.split(Substring(command)), let program = words.first,
              program == "ssh" || program.hasSuffix("/ssh") else { return nil }
        var forwardsTarget = false
        var port: Int?
        var user: String?
        var identity: String?
        var before: [Hop] = []
        var destination: String?
        var index = 1
        while index < words.count {
            let word = words[index]
            index += 1
            func value() -> String? {
                if word.count > 2 { return String(word.dropFirst(2)) }
                guard index < words.count else { return nil }
                defer { index += 1 }
                return words[index]
            }
            if word.hasPrefix("-W") {
                guard value() == "%h:%p" else { return nil }
                forwardsTarget = true
            } else if word.hasPrefix("-p") {
                guard let text = value() else { return nil }
                port = try portNumber(text, "ProxyCommand -p")
            } else if word.hasPrefix("-l") {
                guard let text = value() else { return nil }
                user = text
            } else if word.hasPrefix("-i") {
                guard let text = value() else { return nil }
                identity = text
            } else if word.hasPrefix("-J") {
                guard let text = value() else { return nil }
                before = try hops(text, from: "ProxyCommand -J \(text)")
            } else if ["-q", "-T", "-N", "-n", "-4", "-6", "-C", "-x", "-a"].contains(word) {
                continue  // no bearing on where the connection goes
            } else if word.hasPrefix("-") || destination != nil {
                return nil
            } else {
                destination = word
            }
        }
        guard forwardsTarget, let destination else { return nil }
        var hop = try hops(destination, from: "ProxyCommand \(destination)")
        guard hop.count == 1 else { return nil }
        if let port { hop[0].port = port }
        if let user, hop[0].user == nil { hop[0].user = user }
        hop[0].identityFile = identity
        return before + hop
    }
}

struct SSHArgumentError: Error {
    var message: String
    init(_ message: String) { self.message = message }
}

extension StringProtocol {
    fileprivate var trimmingSpaces: String {
        var text = Substring(self)
        while let first = text.first, first == " " || first == "\t" { text.removeFirst() }
        while let last = text.last, last == " " || last == "\t" { text.removeLast() }
        return String(text)
    }
}
