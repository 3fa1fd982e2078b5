/// Ansible's INI inventory format, read exactly as ansible-core's `ini` plugin reads it:
/// `[group]`, `[group:vars]`, `[group:children]`, hosts before the first section in `ungrouped`, host lines split
/// like a shell with `key=value` vars typed by Python's `literal_eval`, `:vars` lines split at the first `=`.
struct INIInventoryParser {
    private enum SectionKind: String {
        case hosts, children, vars
    }

    /// A group referred to before it is declared (Ansible's `pending_declarations`).
    private struct Pending {
        var line: Int
        var kind: SectionKind
        var parents: [Int] = []
    }

    let file: String
    private var builder: InventoryBuilder
    private var budget: HostDeclaration.Budget
    private var lineNumber = 0

    private init(file: String, builder: InventoryBuilder, maxHosts: Int) {
        self.file = file
        self.builder = builder
        // One budget for the whole inventory: what earlier sources declared is spent already.
        self.budget = .init(remaining: max(0, maxHosts - builder.hosts.count))
    }

    /// Reads `bytes` (the file's contents) into `builder`.
    static func parse(_ bytes: [UInt8], file: String, into builder: inout InventoryBuilder, maxHosts: Int) throws {
        var parser = INIInventoryParser(file: file, builder: builder, maxHosts: maxHosts)
        try parser.run(lines: try Self.lines(of: bytes, file: file))
        builder = parser.builder
    }

    /// The file's lines as Python's `splitlines()` gives them. A file that is not UTF-8 is still read when only
    /// comment lines are affected, as Ansible does (such lines become empty).
    static func lines(of bytes: [UInt8], file: String) throws -> [Substring] {
        if let text = String(validating: bytes, as: UTF8.self) {
            return PythonText.splitLines(text)
        }
        var lines: [Substring] = []
        var start = 0
        var i = 0
        func take(_ end: Int) throws {
            let line = bytes[start..<end]
            if let first = line.first, first == UInt8(ascii: "#") || first == UInt8(ascii: ";") {
                lines.append("")
            } else if let text = String(validating: line, as: UTF8.self) {
                lines.append(Substring(text))
            } else {
                throw InventoryError(
                    "line is not valid UTF-8", at: FileLocation(file: file, line: lines.count + 1),
                    hint: "save the inventory as UTF-8")
            }
        }
        while i < bytes.count {
            if bytes[i] == 0x0A || bytes[i] == 0x0D {
                try take(i)
                if bytes[i] == 0x0D && i + 1 < bytes.count && bytes[i + 1] == 0x0A { i += 1 }
                i += 1
                start = i
            } else {
                i += 1
            }
        }
        if start < bytes.count { try take(bytes.count) }
        return lines
    }

    private var location: FileLocation { FileLocation(file: file, line: lineNumber) }

    private func error(_ message: String, hint: String? = nil) -> InventoryError {
        InventoryError(message, at: location, hint: hint)
    }

    private mutating func run(lines: [Substring]) throws {
        var pending: [String: Pending] = [:]
        var pendingOrder: [String] = []
        var group = InventoryBuilder.ungrouped
        var kind = SectionKind.hosts

        for rawLine in lines {
            lineNumber += 1
            let line = PythonText.strip(rawLine)
            guard let first = line.unicodeScalars.first, first != "#", first != ";" else { continue }

            if let (rawName, tag) = Self.sectionHeader(line) {
                guard let sectionKind = SectionKind(rawValue: tag.map(String.init) ?? "hosts") else {
                    throw error(
                        "section [\(rawName):\(tag ?? "")] has unknown type '\(tag ?? "")'",
                        hint: "a section is [GROUP], [GROUP:vars] or [GROUP:children]")
                }
                kind = sectionKind
                let name = String(rawName)
                if builder.groupIndex[name] == nil {
                    // [g] or [g:children] declares a group; [g:vars] must refer to one declared somewhere.
                    if kind == .vars && pending[name] == nil {
                        pending[name] = Pending(line: lineNumber, kind: .vars)
                        pendingOrder.append(name)
                    }
                    group = try builder.addGroup(name, at: location)
                } else {
                    group = builder.groupIndex[name]!
                }
                if let waiting = pending[name], kind != .vars {
                    if waiting.kind == .children {
                        try addPendingChildren(name, &pending)
                    } else {
                        pending[name] = nil
                    }
                }
                continue
            }
            if line.hasPrefix("[") && line.hasSuffix("]") {
                throw error(
                    "invalid section header '\(excerpt(line))'",
                    hint: "a section is [GROUP], [GROUP:vars] or [GROUP:children], with no spaces in the brackets")
            }

            switch kind {
            case .hosts:
                try parseHostLine(line, group: group)
            case .vars:
                guard let eq = line.firstIndex(of: "=") else {
                    throw error(
                        "expected KEY=VALUE in [\(builder.groups[group].name):vars], got '\(excerpt(line))'",
                        hint: "each line of a :vars section sets one variable, e.g. http_port=80")
                }
                let key = PythonText.strip(line[..<eq])
                let value = try typedValue(PythonText.strip(line[line.index(after: eq)...]))
                try builder.setGroupVariable(group, key: String(key), value: value, at: location)
            case .children:
                guard let childName = Self.childGroupName(line) else {
                    throw error(
                        "expected a group name in [\(builder.groups[group].name):children], got '\(excerpt(line))'",
                        hint: "each line of a :children section names one group")
                }
                if let child = builder.groupIndex[childName] {
                    try builder.addChild(parent: group, child: child, at: location)
                } else if pending[childName] != nil {
                    pending[childName]!.parents.append(group)
                } else {
                    pending[childName] = Pending(line: lineNumber, kind: .children, parents: [group])
                    pendingOrder.append(childName)
                }
            }
        }

        // A reference still pending means a group that was never declared; report the first.
        for name in pendingOrder {
            guard let declaration = pending[name] else { continue }
            let at = FileLocation(file: file, line: declaration.line)
            if declaration.kind == .vars {
                throw InventoryError(
                    "section [\(name):vars] sets variables of group '\(name)', which is never declared", at: at,
                    hint: "declare the group with a [\(name)] or [\(name):children] section, or fix the name")
            }
            let parent = builder.groups[declaration.parents.last!].name
            throw InventoryError(
                "section [\(parent):children] names group '\(name)', which is never declared", at: at,
                hint: "declare it with a [\(name)] section (it may come later in the file), or fix the name")
        }
    }

    /// Links a group that was referred to as a child before its declaration to the groups that named it.
    private mutating func addPendingChildren(_ name: String, _ pending: inout [String: Pending]) throws {
        guard let declaration = pending[name], let child = builder.groupIndex[name] else { return }
        for parent in declaration.parents {
            try builder.addChild(parent: parent, child: child, at: FileLocation(file: file, line: declaration.line))
            let parentName = builder.groups[parent].name
            if let up = pending[parentName], up.kind == .children {
                try addPendingChildren(parentName, &pending)
            }
        }
        pending[name] = nil
    }

    /// `NAME [key=value ...]`: one or more hosts (ranges expand) with their vars.
    private mutating func parseHostLine(_ line: Substring, group: Int) throws {
        let tokens: [String]
        do {
            tokens = try ShellWords.split(line)
        } catch let splitError as ShellWords.SplitError {
            throw error("cannot split host line '\(excerpt(line))': \(splitError)", hint: "check the quotes on this line")
        }
        guard let pattern = tokens.first else {
            throw error("expected a host name, got '\(excerpt(line))'")
        }
        let names: [String]
        let port: Int?
        do {
            (names, port) = try HostDeclaration.expand(pattern, budget: &budget)
        } catch let rangeError as HostDeclaration.RangeError {
            throw error(rangeError.description, hint: "ranges look like web[01:20], web[01:20:2] or db-[a:f]")
        }
        if port == nil && PythonText.strip(Substring(pattern)).hasSuffix(":") {
            throw error(
                "host '\(pattern)' ends in ':' without a port",
                hint: "write the port after the colon (host:2222), or remove the colon")
        }
        if names.contains(where: { PythonText.strip(Substring($0)) == "---" }) {
            throw error("'---' is not a host name", hint: "this looks like a YAML file; name it with a .yml extension")
        }
        var variables: [(String, InventoryValue)] = []
        for token in tokens.dropFirst() {
            guard let eq = token.utf8.firstIndex(of: UInt8(ascii: "=")) else {
                throw error(
                    "expected KEY=VALUE after host '\(pattern)', got '\(token)'",
                    hint: "host variables are written key=value; quote values that contain spaces")
            }
            variables.append((String(token[..<eq]), try typedValue(token[token.index(after: eq)...])))
        }
        for name in names {
            try builder.addHost(name, group: group, port: port, at: location)
            for (key, value) in variables {
                try builder.setVariable(entity: name, key: key, value: value, at: location)
            }
        }
    }

    private func typedValue(_ text: Substring) throws -> InventoryValue {
        do {
            return try PythonLiteral.ansibleValue(of: text)
        } catch let unhashable as PythonLiteral.UnhashableError {
            throw error(
                "value '\(excerpt(text))' uses a \(unhashable.kind) as a dict key or set member, which Python (and Ansible) refuse",
                hint: "quote the value to keep it as a string")
        }
    }

    // MARK: Line syntax

    /// `^\[([^:\]\s]+)(?::(\w+))?\]\s*(?:#.*)?$` on a stripped line: the group name and the optional tag.
    static func sectionHeader(_ line: Substring) -> (Substring, Substring?)? {
        let s = line.unicodeScalars
        guard s.first == "[" else { return nil }
        var i = s.index(after: s.startIndex)
        let nameStart = i
        while i < s.endIndex, s[i] != ":", s[i] != "]", !PythonText.isSpace(s[i]) { i = s.index(after: i) }
        guard i > nameStart, i < s.endIndex else { return nil }
        let name = Substring(s[nameStart..<i])
        var tag: Substring?
        if s[i] == ":" {
            i = s.index(after: i)
            let tagStart = i
            while i < s.endIndex, PythonText.isWord(s[i]) { i = s.index(after: i) }
            guard i > tagStart else { return nil }
            tag = Substring(s[tagStart..<i])
        }
        guard i < s.endIndex, s[i] == "]" else { return nil }
        i = s.index(after: i)
        guard isTrailingCommentOrSpace(Substring(s[i...])) else { return nil }
        return (name, tag)
    }

    /// `^([^:\]\s]+)\s*(?:#.*)?$`: a child group line.
    static func childGroupName(_ line: Substring) -> String? {
        let s = line.unicodeScalars
        var i = s.startIndex
        while i < s.endIndex, s[i] != ":", s[i] != "]", !PythonText.isSpace(s[i]) { i = s.index(after: i) }
        guard i > s.startIndex, isTrailingCommentOrSpace(Substring(s[i...])) else { return nil }
        return String(Substring(s[s.startIndex..<i]))
    }

    private static func isTrailingCommentOrSpace(_ rest: Substring) -> Bool {
        guard let nonSpace = rest.unicodeScalars.firstIndex(where: { !PythonText.isSpace($0) }) else { return true }
        return rest.unicodeScalars[nonSpace] == "#"
    }
}

/// At most 100 characters of an offending line, for an error message: a minified JSON file read as INI must not
/// print a megabyte on the terminal.
func excerpt<S: StringProtocol>(_ text: S) -> String {
    text.count <= 100 ? String(text) : String(text.prefix(100)) + "... (\(text.utf8.count) bytes)"
}
