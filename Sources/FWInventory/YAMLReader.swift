import Foundation
import Yams

/// YAML as Ansible reads it: PyYAML's YAML 1.1 rules for untagged scalars (`yes`/`on` are booleans, `0755` is
/// octal, `1:30` is 90, `1e3` is a string but `1.0e+3` a float, dates become ISO strings), merge keys (`<<`),
/// and Ansible's tags (`!unsafe` reads the value as if untagged, `!vault` keeps the ciphertext).
/// libyaml (inside Yams) does the parsing; this type gives the nodes their Python types.
struct YAMLReader {
    struct Failure: Error {
        var message: String
        var line: Int?
        var column: Int?
    }

    /// A document and, when it is a mapping, the line of each top-level key.
    struct Document {
        var value: InventoryValue
        var keyLines: [String: Int]
        /// The document's top-level mapping keys with their value nodes, for the YAML inventory format.
        var root: Node?
    }

    /// Alias expansion is bounded: an alias "bomb" must fail, not exhaust memory.
    private var remainingNodes = 2_000_000
    private var depth = 0
    private static let maxDepth = 1000

    static func parse(_ text: String) throws -> Document {
        let root: Node?
        do {
            let parser = try Parser(yaml: text, resolver: .basic, constructor: .default, encoding: .utf8)
            root = try parser.singleRoot()
        } catch let error as YamlError {
            throw Failure(yamlError: error)
        }
        guard let root else { return Document(value: .null, keyLines: [:], root: nil) }
        var reader = YAMLReader()
        let value = try reader.convert(root)
        var keyLines: [String: Int] = [:]
        if case .mapping(let mapping) = root {
            for (key, _) in mapping {
                if let name = try? reader.keyString(key), let line = key.mark?.line, keyLines[name] == nil {
                    keyLines[name] = line
                }
            }
        }
        return Document(value: value, keyLines: keyLines, root: root)
    }

    mutating func convert(_ node: Node) throws -> InventoryValue {
        remainingNodes -= 1
        if remainingNodes < 0 {
            throw Failure(message: "YAML aliases expand to too many values", line: node.mark?.line, column: node.mark?.column)
        }
        depth += 1
        defer { depth -= 1 }
        if depth > Self.maxDepth {
            throw Failure(message: "YAML nested more than \(Self.maxDepth) levels deep", line: node.mark?.line, column: node.mark?.column)
        }
        switch node {
        case .scalar(let scalar):
            return try convertScalar(scalar, tag: scalar.tag.description)
        case .sequence(let sequence):
            try checkCollectionTag(sequence.tag.description, allowed: ["tag:yaml.org,2002:seq", "!unsafe"], mark: sequence.mark)
            let list = InventoryValue.list(try sequence.map { try convert($0) })
            return sequence.tag.description == "!unsafe" ? list.markedUnsafe : list
        case .mapping(let mapping):
            let tag = mapping.tag.description
            try checkCollectionTag(tag, allowed: ["tag:yaml.org,2002:map", "tag:yaml.org,2002:set", "!unsafe"], mark: mapping.mark)
            // Keys are Python objects first: `1`, `1.0` and `true` are one key (the first spelling stays, the
            // last value wins), as in the dict PyYAML builds.
            var dict: [String: InventoryValue] = [:]
            var spellingOfIdentity: [String: String] = [:]
            for (key, value) in try flattened(mapping) {
                let (spelling, identity) = try keyStringAndIdentity(key)
                let name = spellingOfIdentity[identity] ?? spelling
                spellingOfIdentity[identity] = name
                dict[name] = try convert(value)
            }
            return tag == "!unsafe" ? InventoryValue.dict(dict).markedUnsafe : .dict(dict)
        case .alias:
            throw Failure(message: "unexpected YAML alias", line: node.mark?.line, column: node.mark?.column)
        }
    }

    private func checkCollectionTag(_ tag: String, allowed: [String], mark: Mark?) throws {
        guard !tag.isEmpty, tag != "!", !allowed.contains(tag) else { return }
        throw Failure(message: "YAML tag '\(tag)' is not supported", line: mark?.line, column: mark?.column)
    }

    /// The mapping's pairs with merge keys (`<<: *base`, `<<: [*a, *b]`) applied as PyYAML applies them:
    /// merged pairs first (earlier mappings in a list win over later ones), then the mapping's own pairs.
    ///
    /// Every pair a merge copies counts against the same budget as alias expansion, as it is copied: merge keys
    /// over aliases nest exponentially (`<<: [*b, *b]` over `<<: [*a, *a]` ...), and a 1 KB file must fail at
    /// once rather than build billions of pairs first.
    mutating func flattened(_ mapping: Node.Mapping) throws -> [(Node, Node)] {
        var merged: [(Node, Node)] = []
        var own: [(Node, Node)] = []
        for (key, value) in mapping {
            guard isMergeKey(key) else { own.append((key, value)); continue }
            func spend(_ pairs: Int) throws {
                remainingNodes -= pairs
                if remainingNodes < 0 {
                    throw Failure(message: "YAML merge keys (<<) and aliases expand to too many values",
                                  line: key.mark?.line, column: key.mark?.column)
                }
            }
            switch value {
            case .mapping(let sub):
                let part = try flattened(sub)
                try spend(part.count)
                merged += part
            case .sequence(let list):
                var parts: [[(Node, Node)]] = []
                for item in list {
                    guard case .mapping(let sub) = item else {
                        throw Failure(message: "a merge key (<<) takes a mapping or a list of mappings", line: item.mark?.line, column: item.mark?.column)
                    }
                    let part = try flattened(sub)
                    try spend(part.count)
                    parts.append(part)
                }
                for part in parts.reversed() { merged += part }
            default:
                throw Failure(message: "a merge key (<<) takes a mapping or a list of mappings", line: value.mark?.line, column: value.mark?.column)
            }
        }
        return merged + own
    }

    private func isMergeKey(_ node: Node) -> Bool {
        guard case .scalar(let scalar) = node, scalar.string == "<<", scalar.style == .plain else { return false }
        let tag = scalar.tag.description
        return tag.isEmpty || tag == "tag:yaml.org,2002:str" || tag == "tag:yaml.org,2002:merge"
    }

    /// A mapping key as Ansible ends up printing it: scalars typed like values, then written as JSON writes
    /// keys (`yes` -> "true", `1` -> "1", `~` -> "null").
    mutating func keyString(_ node: Node) throws -> String {
        try keyStringAndIdentity(node).0
    }

    /// The key's JSON spelling and its identity as a Python dict key (numbers equal across int, float and bool).
    mutating func keyStringAndIdentity(_ node: Node) throws -> (String, String) {
        guard case .scalar(let scalar) = node else {
            throw Failure(message: "a mapping key must be a scalar, not a \(node.isMapping ? "mapping" : "list")", line: node.mark?.line, column: node.mark?.column)
        }
        var tag = scalar.tag.description
        // Keys have been hashed by the parser, which resolved untagged plain scalars to str.
        if tag == "tag:yaml.org,2002:str" && scalar.style == .plain { tag = "" }
        if scalar.string == "=" && scalar.style == .plain && tag.isEmpty { return ("=", "s:=") }
        switch try convertScalar(scalar, tag: tag) {
        case .string(let s), .unsafe(let s): return (s, "s:" + s)
        case .int(let i): return (String(i), "n:\(i)")
        case .bool(let b): return (b ? "true" : "false", b ? "n:1" : "n:0")
        case .null: return ("null", "null")
        case .double(let d):
            let identity = d.rounded() == d && abs(d) < 9e18 ? "n:\(Int(d))" : "f:\(PythonNumberFormat.json(d))"
            return (PythonNumberFormat.json(d), identity)
        case let other: return (other.description, "o:" + other.description)
        }
    }

    private func convertScalar(_ scalar: Node.Scalar, tag: String) throws -> InventoryValue {
        let text = scalar.string
        let failure = { (message: String) in Failure(message: message, line: scalar.mark?.line, column: scalar.mark?.column) }
        switch tag {
        case "":
            if scalar.style != .plain { return .string(text) }
            return try resolvePlain(text, failure)
        case "!":
            return try resolvePlain(text, failure)
        case "!unsafe":
            // Ansible resolves an !unsafe value as if it were plain, quoted or not, and marks it when a string.
            return try resolvePlain(text, failure).markedUnsafe
        case "tag:yaml.org,2002:str", "tag:yaml.org,2002:python/unicode":
            return .string(text)
        case "tag:yaml.org,2002:int":
            guard let v = YAML11.integer(text) else { throw failure("'\(text)' is not an integer") }
            return v
        case "tag:yaml.org,2002:float":
            guard let v = YAML11.float(text) else { throw failure("'\(text)' is not a float") }
            return .double(v)
        case "tag:yaml.org,2002:bool":
            guard let v = YAML11.bool(text) else { throw failure("'\(text)' is not a boolean") }
            return .bool(v)
        case "tag:yaml.org,2002:null":
            return .null
        case "tag:yaml.org,2002:timestamp":
            guard let v = try YAML11.timestamp(text, failure) else { throw failure("'\(text)' is not a timestamp") }
            return .string(v)
        case "tag:yaml.org,2002:binary":
            let compact = text.filter { !$0.isWhitespace }
            guard let data = Data(base64Encoded: compact) else { throw failure("'!!binary' value is not base64") }
            return .string(String(decoding: data, as: UTF8.self))
        case "!vault", "!vault-encrypted":
            return .dict(["__ansible_vault": .string(text)])
        default:
            throw failure("YAML tag '\(tag)' is not supported")
        }
    }

    /// PyYAML's implicit resolver, in its order: bool, float, int, merge, null, timestamp, value; else str.
    private func resolvePlain(_ text: String, _ failure: (String) -> Failure) throws -> InventoryValue {
        guard let first = text.utf8.first else { return .null }
        switch first {
        case UInt8(ascii: "y"), UInt8(ascii: "Y"), UInt8(ascii: "n"), UInt8(ascii: "N"), UInt8(ascii: "t"), UInt8(ascii: "T"),
            UInt8(ascii: "f"), UInt8(ascii: "F"), UInt8(ascii: "o"), UInt8(ascii: "O"):
            if let b = YAML11.bool(text) { return .bool(b) }
            if text == "null" || text == "Null" || text == "NULL" { return .null }
            return .string(text)
        case UInt8(ascii: "~"):
            return text == "~" ? .null : .string(text)
        case UInt8(ascii: "<"):
            if text == "<<" { throw failure("a merge key (<<) can only be a mapping key") }
            return .string(text)
        case UInt8(ascii: "="):
            if text == "=" { throw failure("'=' is a YAML value key, which Ansible cannot read; quote it") }
            return .string(text)
        case UInt8(ascii: "-"), UInt8(ascii: "+"), UInt8(ascii: "."), UInt8(ascii: "0")...UInt8(ascii: "9"):
            if YAML11.matchesFloat(text) {
                guard let v = YAML11.float(text) else { throw failure("'\(text)' is not a valid float") }
                return .double(v)
            }
            if YAML11.matchesInt(text) {
                guard let v = YAML11.integer(text) else { throw failure("'\(text)' is not a valid integer") }
                return v
            }
            if YAML11.matchesTimestamp(text) {
                guard let v = try YAML11.timestamp(text, failure) else { return .string(text) }
                return .string(v)
            }
            return .string(text)
        default:
            return .string(text)
        }
    }
}

extension YAMLReader.Failure {
    init(yamlError: YamlError) {
        switch yamlError {
        case .scanner(let context, let problem, let mark, _), .parser(let context, let problem, let mark, _),
            .composer(let context, let problem, let mark, _):
            let what = [context?.text, problem].compactMap { $0 }.filter { !$0.isEmpty }.joined(separator: ", ")
            self.init(message: "invalid YAML: \(what)", line: mark.line, column: mark.column)
        case .duplicatedKeysInMapping(let duplicates, let context):
            self.init(
                message: "duplicate key \(duplicates.map { "'\($0)'" }.joined(separator: ", ")) in a YAML mapping",
                line: context.mark.line, column: context.mark.column)
        case .reader(let problem, let offset, let value, let yaml):
            let code = String(value, radix: 16, uppercase: true)
            let message = "invalid YAML: \(problem) (U+\(String(repeating: "0", count: max(0, 4 - code.count)) + code))"
            // The reader reports a byte offset: count the lines before it, so the error names the line.
            guard let offset else {
                self.init(message: message, line: nil, column: nil)
                return
            }
            let before = yaml.utf8.prefix(max(0, offset))
            self.init(message: message, line: before.reduce(1) { $1 == 0x0A ? $0 + 1 : $0 },
                      column: before.reversed().prefix { $0 != 0x0A }.count + 1)
        default:
            self.init(message: "invalid YAML: \(yamlError)", line: nil, column: nil)
        }
    }
}

extension Node {
    fileprivate var isMapping: Bool {
        if case .mapping = self { return true }
        return false
    }
}
