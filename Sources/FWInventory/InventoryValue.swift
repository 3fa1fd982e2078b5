/// A variable's value as Ansible holds it: the JSON-like types that `ansible-inventory --list` prints.
///
/// The case a value has is the type Ansible gives it (an INI host line's `port=8080` is `.int(8080)`, its
/// `port="8080"` too, because the shell-style split removes the quotes first; a `[g:vars]` line's `port="8080"` is
/// `.string("8080")`), so code reading the policy can insist on a type and name the source when it is wrong.
public enum InventoryValue: Sendable, Hashable {
    case null
    case bool(Bool)
    case int(Int)
    case double(Double)
    case string(String)
    /// A string Ansible marks unsafe (never templated): YAML `!unsafe` (on the string or a list or mapping holding
    /// it) or JSON `{"__ansible_unsafe": "..."}`. Every reader of the value sees a string (`stringValue`); the mark
    /// is kept so `--list` prints `{"__ansible_unsafe": ...}` where ansible-inventory does.
    case unsafe(String)
    case list([InventoryValue])
    case dict([String: InventoryValue])
}

extension InventoryValue {
    public var stringValue: String? {
        switch self {
        case .string(let s), .unsafe(let s): return s
        default: return nil
        }
    }

    /// The integer, for `.int` only (a `.double` or a numeric string is not silently converted).
    public var intValue: Int? {
        if case .int(let i) = self { return i }
        return nil
    }

    public var boolValue: Bool? {
        if case .bool(let b) = self { return b }
        return nil
    }

    /// The number as a Double, for `.double` and `.int`.
    public var doubleValue: Double? {
        switch self {
        case .double(let d): return d
        case .int(let i): return Double(i)
        default: return nil
        }
    }

    public var listValue: [InventoryValue]? {
        if case .list(let l) = self { return l }
        return nil
    }

    public var dictValue: [String: InventoryValue]? {
        if case .dict(let d) = self { return d }
        return nil
    }

    public var isNull: Bool {
        if case .null = self { return true }
        return false
    }

    /// The value with every string in it marked unsafe, as Ansible's `!unsafe` marks what it tags.
    public var markedUnsafe: InventoryValue {
        switch self {
        case .string(let s): return .unsafe(s)
        case .list(let items): return .list(items.map(\.markedUnsafe))
        case .dict(let dict): return .dict(dict.mapValues(\.markedUnsafe))
        default: return self
        }
    }

    /// The value under `key` when this is a dict.
    public subscript(key: String) -> InventoryValue? {
        if case .dict(let d) = self { return d[key] }
        return nil
    }

    /// The element at `index` when this is a list and the index is in range.
    public subscript(index: Int) -> InventoryValue? {
        if case .list(let l) = self, l.indices.contains(index) { return l[index] }
        return nil
    }

    /// What kind of value this is, for messages: "a string", "a list", ...
    public var kindDescription: String {
        switch self {
        case .null: return "null"
        case .bool: return "a boolean"
        case .int: return "an integer"
        case .double: return "a floating-point number"
        case .string, .unsafe: return "a string"
        case .list: return "a list"
        case .dict: return "a mapping"
        }
    }
}

extension InventoryValue: CustomStringConvertible {
    /// The value as compact JSON (`{"a": [1, 2]}`), the way it appears in messages.
    public var description: String { jsonText(style: .compact) }
}

extension InventoryValue: ExpressibleByNilLiteral, ExpressibleByBooleanLiteral, ExpressibleByIntegerLiteral,
    ExpressibleByFloatLiteral, ExpressibleByStringLiteral, ExpressibleByArrayLiteral, ExpressibleByDictionaryLiteral
{
    public init(nilLiteral: ()) { self = .null }
    public init(booleanLiteral value: Bool) { self = .bool(value) }
    public init(integerLiteral value: Int) { self = .int(value) }
    public init(floatLiteral value: Double) { self = .double(value) }
    public init(stringLiteral value: String) { self = .string(value) }
    public init(arrayLiteral elements: InventoryValue...) { self = .list(elements) }
    public init(dictionaryLiteral elements: (String, InventoryValue)...) {
        self = .dict(Dictionary(elements, uniquingKeysWith: { _, last in last }))
    }
}
