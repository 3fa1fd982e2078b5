/// What Ansible keeps of a Python literal (`PythonLiteral.swift` parses it): the conversion its INI parser applies
/// after `ast.literal_eval`.
extension PythonLiteral {
    /// Python raises TypeError (not caught by Ansible) when a dict key or set member is a list or dict.
    struct UnhashableError: Error {
        var kind: String
    }

    /// The value Ansible stores for `text`: the literal's value converted the way Ansible converts it, or the
    /// text itself. Throws only where Ansible fails too (an unhashable dict key or set member).
    static func ansibleValue(of text: Substring, shortcuts: Bool = true) throws -> InventoryValue {
        guard let value = try evaluate(text, shortcuts: shortcuts) else { return .string(String(text)) }
        return try value.inventoryValue()
    }
}

extension PythonLiteral.Value {
    /// What Ansible keeps: tuples and sets become lists, `...` and complex numbers become their text, bytes are
    /// decoded, and dict keys become the strings JSON gives them (Python's `1`, `1.0` and `True` are one key).
    func inventoryValue() throws -> InventoryValue {
        switch self {
        case .noneValue: return .null
        case .bool(let b): return .bool(b)
        case .int(let i): return .int(i)
        case .bigInt(let d): return .double(d)
        case .float(let d): return .double(d)
        case .complex(let re, let im): return .string(PythonNumberFormat.complexRepr(real: re, imag: im))
        case .string(let s): return .string(s)
        case .bytes(let b): return .string(String(decoding: b, as: UTF8.self))
        case .ellipsis: return .string("...")
        case .list(let items), .tuple(let items):
            return .list(try items.map { try $0.inventoryValue() })
        case .set(let items):
            var unique: [PythonLiteral.Value] = []
            for item in items {
                try item.checkHashable()
                if !unique.contains(where: { $0.pythonEquals(item) }) { unique.append(item) }
            }
            return .list(try unique.map { try $0.inventoryValue() })
        case .dict(let pairs):
            var keys: [PythonLiteral.Value] = []
            var values: [InventoryValue] = []
            for (key, value) in pairs {
                try key.checkHashable()
                let converted = try value.inventoryValue()
                if let existing = keys.firstIndex(where: { $0.pythonEquals(key) }) {
                    values[existing] = converted  // the first key stays, the last value wins
                } else {
                    keys.append(key)
                    values.append(converted)
                }
            }
            var dict: [String: InventoryValue] = [:]
            for (key, value) in zip(keys, values) { dict[key.jsonKey] = value }
            return .dict(dict)
        }
    }

    func checkHashable() throws {
        switch self {
        case .list: throw PythonLiteral.UnhashableError(kind: "list")
        case .dict: throw PythonLiteral.UnhashableError(kind: "dict")
        case .set: throw PythonLiteral.UnhashableError(kind: "set")
        case .tuple(let items): for item in items { try item.checkHashable() }
        default: break
        }
    }

    /// The number as (real, imag) when this is a number; bools count (Python's True == 1).
    private var numeric: (Double, Double)? {
        switch self {
        case .bool(let b): return (b ? 1 : 0, 0)
        case .int(let i): return (Double(i), 0)
        case .bigInt(let d), .float(let d): return (d, 0)
        case .complex(let re, let im): return (re, im)
        default: return nil
        }
    }

    func pythonEquals(_ other: PythonLiteral.Value) -> Bool {
        if case .int(let a) = self, case .int(let b) = other { return a == b }
        if let a = numeric, let b = other.numeric { return a == b }
        switch (self, other) {
        case (.noneValue, .noneValue), (.ellipsis, .ellipsis): return true
        case (.string(let a), .string(let b)): return a == b
        case (.bytes(let a), .bytes(let b)): return a == b
        case (.tuple(let a), .tuple(let b)):
            return a.count == b.count && zip(a, b).allSatisfy { $0.pythonEquals($1) }
        default: return false
        }
    }

    /// The key as `json.dumps` writes it.
    var jsonKey: String {
        switch self {
        case .string(let s): return s
        case .int(let i): return String(i)
        case .bool(let b): return b ? "true" : "false"
        case .noneValue: return "null"
        case .bigInt(let d), .float(let d): return PythonNumberFormat.json(d)
        case .complex(let re, let im): return PythonNumberFormat.complexRepr(real: re, imag: im)
        case .bytes(let b): return String(decoding: b, as: UTF8.self)
        case .ellipsis: return "Ellipsis"
        case .tuple(let items): return "(" + items.map(\.jsonKey).joined(separator: ", ") + (items.count == 1 ? ",)" : ")")
        case .list, .set, .dict: return ""
        }
    }
}
