/// The data a template renders: what a Mustache tag can name.
///
/// Build it from Swift literals (`["port": 22, "sources": ["192.0.2.1", "192.0.2.2"], "log": false]`) or with
/// `TemplateObject`'s builder methods; it also decodes from JSON or YAML through `Decodable`.
///
/// Truthiness for sections (`{{#x}}` renders, `{{^x}}` skips): `null`, `false`, an empty list and an empty string
/// are falsy; everything else, including `0`, is truthy (a port or a count of 0 is still a value).
public enum TemplateValue: Sendable, Equatable {
    case null
    case bool(Bool)
    case int(Int)
    case double(Double)
    case string(String)
    case list([TemplateValue])
    case object(TemplateObject)

    /// Whether a section over this value renders its content (see the type's documentation).
    @inlinable
    public var isTruthy: Bool {
        switch self {
        case .null: return false
        case .bool(let value): return value
        case .int, .double, .object: return true
        case .string(let value): return !value.isEmpty
        case .list(let items): return !items.isEmpty
        }
    }

    /// The value at `key` when this is an object, else nil.
    public subscript(key: String) -> TemplateValue? {
        if case .object(let object) = self { return object[key] }
        return nil
    }

    /// For a string, `body` over its UTF-8 bytes: the string's own storage when it is contiguous (every native
    /// string), else a copy (bridged storage). nil for other values.
    @inline(__always)
    func withStringBytes<Result>(_ body: (UnsafeBufferPointer<UInt8>) -> Result) -> Result? {
        guard case .string(let text) = self else { return nil }
        if let result = text.utf8.withContiguousStorageIfAvailable(body) { return result }
        return Array(text.utf8).withUnsafeBufferPointer(body)
    }

    /// A short word for the kind of value, for error messages.
    var kindName: String {
        switch self {
        case .null: return "null"
        case .bool: return "a boolean"
        case .int: return "an integer"
        case .double: return "a number"
        case .string: return "a string"
        case .list: return "a list"
        case .object: return "an object"
        }
    }
}

extension TemplateValue: ExpressibleByNilLiteral, ExpressibleByBooleanLiteral, ExpressibleByIntegerLiteral,
    ExpressibleByFloatLiteral, ExpressibleByStringInterpolation, ExpressibleByArrayLiteral,
    ExpressibleByDictionaryLiteral
{
    public init(nilLiteral: ()) { self = .null }
    public init(booleanLiteral value: Bool) { self = .bool(value) }
    public init(integerLiteral value: Int) { self = .int(value) }
    public init(floatLiteral value: Double) { self = .double(value) }
    public init(stringLiteral value: String) { self = .string(value) }
    public init(arrayLiteral elements: TemplateValue...) { self = .list(elements) }
    public init(dictionaryLiteral elements: (String, TemplateValue)...) {
        self = .object(TemplateObject(elements))
    }
}

/// A string-keyed object for `TemplateValue`, built for fast lookup by the renderer.
///
/// Keys keep their first insertion order; setting an existing key replaces its value. Lookup compares a
/// precomputed 64-bit hash before the key itself, so the small objects typical of rule data (a handful of keys)
/// need no hashing of the key at render time. Objects with many keys also keep a dictionary index.
public struct TemplateObject: Sendable, Equatable, ExpressibleByDictionaryLiteral {
    @usableFromInline
    // @unchecked Sendable: mutated only while uniquely referenced (copy on write), so sharing across threads is
    // safe; a Mutex here would cost every lookup of every render.
    final class Storage: @unchecked Sendable {
        @exclusivity(unchecked) var keys: [String] = []
        @exclusivity(unchecked) var hashes: [UInt64] = []
        @exclusivity(unchecked) var values: [TemplateValue] = []
        @exclusivity(unchecked) var index: [String: Int]? = nil

        init() {}

        /// The slot of `key` (whose `TemplateObject.hash` is `hash`), or -1.
        @inline(__always)
        func slot(of key: String, hash: UInt64) -> Int {
            if let index { return index[key] ?? -1 }
            return hashes.withUnsafeBufferPointer { hashes -> Int in
                for i in 0..<hashes.count where hashes[i] == hash && keys[i] == key {
                    return i
                }
                return -1
            }
        }

        /// The value in `slot`, in place: valid while this storage lives and is not mutated, which holds while
        /// a render keeps the data on its context stack (mutation elsewhere copies first).
        @inline(__always)
        func valuePointer(_ slot: Int) -> UnsafePointer<TemplateValue> {
            values.withUnsafeBufferPointer { $0.baseAddress! + slot }
        }

        init(keys: [String], hashes: [UInt64], values: [TemplateValue], index: [String: Int]?) {
            self.keys = keys
            self.hashes = hashes
            self.values = values
            self.index = index
        }

        init(copying other: Storage) {
            keys = other.keys
            hashes = other.hashes
            values = other.values
            index = other.index
        }
    }

    /// Above this many keys an object also keeps a dictionary index. Below it a lookup scans the precomputed
    /// hashes, which is faster than hashing the key for the dictionary, and building objects stays cheap.
    static let indexThreshold = 64

    @usableFromInline
    var storage: Storage

    public init() { storage = Storage() }

    /// An object with the given pairs; a repeated key keeps the last value.
    public init(_ pairs: some Sequence<(String, TemplateValue)>) {
        storage = Storage()
        reserveCapacity(pairs.underestimatedCount)
        for (key, value) in pairs { set(key, value) }
    }

    public init(dictionaryLiteral elements: (String, TemplateValue)...) {
        self.init(elements)
    }

    /// A fixed list of keys with their hashes computed once, for building many objects with the same keys (a
    /// renderer's rule objects): such objects share the key arrays and cost one allocation for their values.
    public struct Layout: Sendable {
        @usableFromInline let keys: [String]
        let hashes: [UInt64]
        let index: [String: Int]?

        /// The keys must be distinct.
        public init(_ keys: [String]) {
            precondition(Set(keys).count == keys.count, "a TemplateObject.Layout needs distinct keys")
            self.keys = keys
            hashes = keys.map(TemplateObject.hash)
            index = keys.count > TemplateObject.indexThreshold
                ? Dictionary(uniqueKeysWithValues: zip(keys, keys.indices)) : nil
        }
    }

    /// An object with the layout's keys and these values, in the same order.
    public init(_ layout: Layout, _ values: [TemplateValue]) {
        precondition(values.count == layout.keys.count, "a value for each key of the layout")
        storage = Storage(keys: layout.keys, hashes: layout.hashes, values: values, index: layout.index)
    }

    public var count: Int { storage.keys.count }
    /// The keys in insertion order.
    public var keys: [String] { storage.keys }
    /// The key-value pairs in insertion order.
    public var pairs: [(key: String, value: TemplateValue)] {
        zip(storage.keys, storage.values).map { (key: $0, value: $1) }
    }

    public subscript(key: String) -> TemplateValue? {
        get { lookup(key, hash: TemplateObject.hash(key)) }
        set {
            if let newValue { set(key, newValue) } else { remove(key) }
        }
    }

    /// Sets `key` to `value`, replacing an existing value in place.
    public mutating func set(_ key: String, _ value: TemplateValue) {
        makeUnique()
        let hash = TemplateObject.hash(key)
        if let slot = slot(of: key, hash: hash) {
            storage.values[slot] = value
            return
        }
        storage.keys.append(key)
        storage.hashes.append(hash)
        storage.values.append(value)
        if storage.index != nil {
            storage.index![key] = storage.keys.count - 1
        } else if storage.keys.count > TemplateObject.indexThreshold {
            storage.index = Dictionary(uniqueKeysWithValues: zip(storage.keys, storage.keys.indices))
        }
    }

    /// Removes `key` if present.
    public mutating func remove(_ key: String) {
        guard let slot = slot(of: key, hash: TemplateObject.hash(key)) else { return }
        makeUnique()
        storage.keys.remove(at: slot)
        storage.hashes.remove(at: slot)
        storage.values.remove(at: slot)
        if storage.index != nil {
            storage.index = Dictionary(uniqueKeysWithValues: zip(storage.keys, storage.keys.indices))
        }
    }

    /// Reserves room for `count` keys, for builders that know the size.
    public mutating func reserveCapacity(_ count: Int) {
        makeUnique()
        storage.keys.reserveCapacity(count)
        storage.hashes.reserveCapacity(count)
        storage.values.reserveCapacity(count)
    }

    private mutating func makeUnique() {
        if !isKnownUniquelyReferenced(&storage) { storage = Storage(copying: storage) }
    }

    func slot(of key: String, hash: UInt64) -> Int? {
        let slot = storage.slot(of: key, hash: hash)
        return slot < 0 ? nil : slot
    }

    func lookup(_ key: String, hash: UInt64) -> TemplateValue? {
        guard let slot = slot(of: key, hash: hash) else { return nil }
        return storage.values[slot]
    }

    /// FNV-1a over the key's UTF-8 bytes: cheap, and the same for equal strings whatever their storage.
    static func hash(_ key: String) -> UInt64 {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in key.utf8 {
            hash = (hash ^ UInt64(byte)) &* 0x0000_0100_0000_01b3
        }
        return hash
    }

    public static func == (lhs: TemplateObject, rhs: TemplateObject) -> Bool {
        if lhs.storage === rhs.storage { return true }
        guard lhs.count == rhs.count else { return false }
        for (key, value) in zip(lhs.storage.keys, lhs.storage.values) where rhs[key] != value {
            return false
        }
        return true
    }
}

extension TemplateValue: Decodable {
    private struct AnyKey: CodingKey {
        var stringValue: String
        var intValue: Int? { nil }
        init(stringValue: String) { self.stringValue = stringValue }
        init?(intValue: Int) { return nil }
    }

    /// Decodes JSON-like data: null, booleans, integers (then other numbers), strings, arrays and objects.
    public init(from decoder: any Decoder) throws {
        if let object = try? decoder.container(keyedBy: AnyKey.self) {
            var result = TemplateObject()
            result.reserveCapacity(object.allKeys.count)
            for key in object.allKeys.sorted(by: { $0.stringValue < $1.stringValue }) {
                result.set(key.stringValue, try object.decode(TemplateValue.self, forKey: key))
            }
            self = .object(result)
            return
        }
        if var list = try? decoder.unkeyedContainer() {
            var items: [TemplateValue] = []
            if let count = list.count { items.reserveCapacity(count) }
            while !list.isAtEnd { items.append(try list.decode(TemplateValue.self)) }
            self = .list(items)
            return
        }
        let single = try decoder.singleValueContainer()
        if single.decodeNil() {
            self = .null
        } else if let value = try? single.decode(Bool.self) {
            self = .bool(value)
        } else if let value = try? single.decode(Int.self) {
            self = .int(value)
        } else if let value = try? single.decode(Double.self) {
            self = .double(value)
        } else {
            self = .string(try single.decode(String.self))
        }
    }
}
