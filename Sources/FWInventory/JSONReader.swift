import FWTemplate

/// Python's `json.loads`, as Ansible reads JSON: `NaN`, `Infinity` and `-Infinity` accepted, numbers with a
/// fraction or exponent are floats, the last of duplicate keys wins, and an object `{"__ansible_unsafe": s}`
/// (how ansible-inventory writes Jinja-unsafe strings) is the string `s`.
///
/// One reader, two kinds of value: inventory values for vars, and template values for `fwctl template render
/// --data`, built straight from the text so a large data file is not built twice.
enum JSONReader {
    struct Failure: Error {
        var message: String
        var line: Int
        var column: Int
    }

    /// The parsed document and, when it is an object, the line of each of its top-level keys.
    struct Document<Value> {
        var value: Value
        var keyLines: [String: Int]
        /// The top-level keys in the order they first appear.
        var keyOrder: [String]
    }

    /// Nesting deeper than this is refused (the parser recurses once per level).
    static let maxDepth = 512

    static func parse(_ bytes: [UInt8]) throws -> Document<InventoryValue> {
        try JSONParser<InventoryValueBuilder>.parse(bytes)
    }

    static func parseTemplateValue(_ bytes: [UInt8]) throws -> TemplateValue {
        try JSONParser<TemplateValueBuilder>.parse(bytes).value
    }

    /// Whether the text could be JSON at all (Ansible tries JSON first, then YAML).
    static func looksLikeJSON(_ bytes: [UInt8]) -> Bool {
        for b in bytes {
            switch b {
            case 0x20, 0x09, 0x0A, 0x0D: continue
            case UInt8(ascii: "{"), UInt8(ascii: "["), UInt8(ascii: "\""), UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"),
                UInt8(ascii: "t"), UInt8(ascii: "f"), UInt8(ascii: "n"), UInt8(ascii: "N"), UInt8(ascii: "I"):
                return true
            default: return false
            }
        }
        return false
    }
}

/// Makes the values `JSONParser` reads. The typing rules are the parser's; a builder only chooses the type.
protocol JSONValueBuilder {
    associatedtype Value
    associatedtype Object
    static func null() -> Value
    static func bool(_ value: Bool) -> Value
    static func int(_ value: Int) -> Value
    static func double(_ value: Double) -> Value
    static func string(_ value: String) -> Value
    /// `{"__ansible_unsafe": s}`.
    static func unsafe(_ value: String) -> Value
    static func list(_ items: [Value]) -> Value
    static func newObject() -> Object
    /// Sets `key`, replacing a value it already has (the last of duplicate keys wins).
    static func set(_ key: String, _ value: Value, in object: inout Object)
    static func object(_ object: Object) -> Value
}

enum InventoryValueBuilder: JSONValueBuilder {
    static func null() -> InventoryValue { .null }
    static func bool(_ value: Bool) -> InventoryValue { .bool(value) }
    static func int(_ value: Int) -> InventoryValue { .int(value) }
    static func double(_ value: Double) -> InventoryValue { .double(value) }
    static func string(_ value: String) -> InventoryValue { .string(value) }
    static func unsafe(_ value: String) -> InventoryValue { .unsafe(value) }
    static func list(_ items: [InventoryValue]) -> InventoryValue { .list(items) }
    static func newObject() -> [String: InventoryValue] { [:] }
    static func set(_ key: String, _ value: InventoryValue, in object: inout [String: InventoryValue]) { object[key] = value }
    static func object(_ object: [String: InventoryValue]) -> InventoryValue { .dict(object) }
}

/// Template data as `TemplateValue(InventoryValue)` would make it from the inventory value (an unsafe string is a
/// plain string), without making the inventory value first.
enum TemplateValueBuilder: JSONValueBuilder {
    static func null() -> TemplateValue { .null }
    static func bool(_ value: Bool) -> TemplateValue { .bool(value) }
    static func int(_ value: Int) -> TemplateValue { .int(value) }
    static func double(_ value: Double) -> TemplateValue { .double(value) }
    static func string(_ value: String) -> TemplateValue { .string(value) }
    static func unsafe(_ value: String) -> TemplateValue { .string(value) }
    static func list(_ items: [TemplateValue]) -> TemplateValue { .list(items) }
    static func newObject() -> TemplateObject { TemplateObject() }
    static func set(_ key: String, _ value: TemplateValue, in object: inout TemplateObject) { object.set(key, value) }
    static func object(_ object: TemplateObject) -> TemplateValue { .object(object) }
}

/// The reader itself, for one kind of value.
struct JSONParser<Builder: JSONValueBuilder> {
    typealias Value = Builder.Value
    typealias Failure = JSONReader.Failure

    /// The text, valid for the parse (a pointer: no bounds checks and no reloading of an array on every byte).
    private let bytes: UnsafeBufferPointer<UInt8>
    private var i = 0
    private var line = 1
    private var lineStart = 0
    private var depth = 0
    /// The top-level object's keys: the line of each (the last of duplicates) and their order of first appearance.
    private var keyLines: [String: Int] = [:]
    private var keyOrder: [String] = []

    private init(_ bytes: UnsafeBufferPointer<UInt8>) { self.bytes = bytes }

    static func parse(_ bytes: [UInt8]) throws -> JSONReader.Document<Value> {
        try bytes.withUnsafeBufferPointer { buffer in
            var reader = JSONParser(buffer)
            reader.skipSpace()
            let value = try reader.parseValue()
            reader.skipSpace()
            if reader.i < buffer.count { throw reader.failure("extra data after the JSON value") }
            return JSONReader.Document(value: value, keyLines: reader.keyLines, keyOrder: reader.keyOrder)
        }
    }

    private func failure(_ message: String) -> Failure {
        Failure(message: message, line: line, column: i - lineStart + 1)
    }

    private mutating func skipSpace() {
        while i < bytes.count {
            switch bytes[i] {
            case 0x20, 0x09, 0x0D: i += 1
            case 0x0A: i += 1; line += 1; lineStart = i
            default: return
            }
        }
    }

    private mutating func expect(_ word: StaticString) -> Bool {
        let count = word.utf8CodeUnitCount
        guard i + count <= bytes.count else { return false }
        let w = word.utf8Start
        for k in 0..<count where bytes[i + k] != w[k] { return false }
        i += count
        return true
    }

    private mutating func parseValue() throws -> Value {
        guard i < bytes.count else { throw failure("expected a value, found the end of the text") }
        switch bytes[i] {
        case UInt8(ascii: "{"): return try parseObject()
        case UInt8(ascii: "["): return try parseArray()
        case UInt8(ascii: "\""): return Builder.string(try parseString())
        case UInt8(ascii: "t"): if expect("true") { return Builder.bool(true) }
        case UInt8(ascii: "f"): if expect("false") { return Builder.bool(false) }
        case UInt8(ascii: "n"): if expect("null") { return Builder.null() }
        case UInt8(ascii: "N"): if expect("NaN") { return Builder.double(.nan) }
        case UInt8(ascii: "I"): if expect("Infinity") { return Builder.double(.infinity) }
        case UInt8(ascii: "-"):
            if expect("-Infinity") { return Builder.double(-.infinity) }
            return try parseNumber()
        case UInt8(ascii: "0")...UInt8(ascii: "9"):
            return try parseNumber()
        default: break
        }
        throw failure("expected a JSON value")
    }

    private mutating func enter() throws {
        depth += 1
        if depth > JSONReader.maxDepth { throw failure("JSON nested more than \(JSONReader.maxDepth) levels deep") }
        i += 1
    }

    private mutating func parseObject() throws -> Value {
        let topLevel = depth == 0
        try enter()
        var object = Builder.newObject()
        skipSpace()
        if i < bytes.count && bytes[i] == UInt8(ascii: "}") {
            i += 1; depth -= 1
            return Builder.object(object)
        }
        // `{"__ansible_unsafe": "s"}` is the string s: whether every key so far is that one, and its string.
        var onlyUnsafeKey = true
        var unsafeText: String? = nil
        while true {
            skipSpace()
            guard i < bytes.count, bytes[i] == UInt8(ascii: "\"") else { throw failure("expected a quoted key") }
            let keyLine = line
            let key = try parseString()
            skipSpace()
            guard i < bytes.count, bytes[i] == UInt8(ascii: ":") else { throw failure("expected ':' after a key") }
            i += 1
            skipSpace()
            if onlyUnsafeKey && key == "__ansible_unsafe" {
                if i < bytes.count && bytes[i] == UInt8(ascii: "\"") {
                    let text = try parseString()
                    unsafeText = text
                    Builder.set(key, Builder.string(text), in: &object)
                } else {
                    unsafeText = nil
                    Builder.set(key, try parseValue(), in: &object)
                }
            } else {
                onlyUnsafeKey = false
                Builder.set(key, try parseValue(), in: &object)
            }
            if topLevel {
                if keyLines[key] == nil { keyOrder.append(key) }
                keyLines[key] = keyLine  // the last of duplicate keys is the one that counts
            }
            skipSpace()
            guard i < bytes.count else { throw failure("expected ',' or '}'") }
            if bytes[i] == UInt8(ascii: ",") { i += 1; continue }
            if bytes[i] == UInt8(ascii: "}") { i += 1; break }
            throw failure("expected ',' or '}'")
        }
        depth -= 1
        if onlyUnsafeKey, let unsafeText { return Builder.unsafe(unsafeText) }
        return Builder.object(object)
    }

    private mutating func parseArray() throws -> Value {
        try enter()
        var items: [Value] = []
        skipSpace()
        if i < bytes.count && bytes[i] == UInt8(ascii: "]") {
            i += 1; depth -= 1
            return Builder.list(items)
        }
        items.reserveCapacity(8)  // not empty: skip the first growth steps (1, 2, 4) of the many short lists
        while true {
            skipSpace()
            items.append(try parseValue())
            skipSpace()
            guard i < bytes.count else { throw failure("expected ',' or ']'") }
            if bytes[i] == UInt8(ascii: ",") { i += 1; continue }
            if bytes[i] == UInt8(ascii: "]") { i += 1; break }
            throw failure("expected ',' or ']'")
        }
        depth -= 1
        return Builder.list(items)
    }

    private mutating func parseNumber() throws -> Value {
        let start = i
        if bytes[i] == UInt8(ascii: "-") { i += 1 }
        guard i < bytes.count, isDigit(bytes[i]) else { throw failure("expected a digit") }
        if bytes[i] == UInt8(ascii: "0") { i += 1 } else { while i < bytes.count && isDigit(bytes[i]) { i += 1 } }
        var isFloat = false
        if i < bytes.count && bytes[i] == UInt8(ascii: ".") {
            let dot = i
            i += 1
            guard i < bytes.count, isDigit(bytes[i]) else {
                i = dot  // Python stops the number before a bare '.' (then reports extra data)
                return try integerOrFloat(start, isFloat: false)
            }
            while i < bytes.count && isDigit(bytes[i]) { i += 1 }
            isFloat = true
        }
        if i < bytes.count && (bytes[i] == UInt8(ascii: "e") || bytes[i] == UInt8(ascii: "E")) {
            let e = i
            i += 1
            if i < bytes.count && (bytes[i] == UInt8(ascii: "+") || bytes[i] == UInt8(ascii: "-")) { i += 1 }
            if i < bytes.count && isDigit(bytes[i]) {
                while i < bytes.count && isDigit(bytes[i]) { i += 1 }
                isFloat = true
            } else {
                i = e
            }
        }
        return try integerOrFloat(start, isFloat: isFloat)
    }

    private func integerOrFloat(_ start: Int, isFloat: Bool) throws -> Value {
        let negative = bytes[start] == UInt8(ascii: "-")
        let digits = (negative ? start + 1 : start)..<i
        if !isFloat && digits.count <= 18 {  // fits an Int whatever the digits: no String, no overflow check
            var value = 0
            for k in digits { value = value &* 10 &+ Int(bytes[k] &- 0x30) }
            return Builder.int(negative ? -value : value)
        }
        let text = String(decoding: UnsafeBufferPointer(rebasing: bytes[start..<i]), as: UTF8.self)
        if !isFloat, let int = Int(text) { return Builder.int(int) }
        guard let double = Double(text) else { throw failure("invalid number '\(text)'") }
        return Builder.double(double)  // floats, and integers beyond 64 bits
    }

    private func isDigit(_ b: UInt8) -> Bool { b >= 0x30 && b <= 0x39 }

    private mutating func parseString() throws -> String {
        i += 1  // opening quote
        let start = i
        // Fast path: no escapes. Eight bytes at a time while none of them ends the plain run (a quote, a
        // backslash or a control character), then byte by byte from the word that has one.
        // Non-ASCII bytes are noted on the way, so only such strings are checked for valid UTF-8 (Python, as
        // Ansible reads a file, refuses invalid UTF-8; it is never replaced silently).
        let base = UnsafeRawPointer(bytes.baseAddress!)
        var nonASCII: UInt64 = 0
        while i + 8 <= bytes.count {
            let word = base.loadUnaligned(fromByteOffset: i, as: UInt64.self)
            if Self.endsPlainRun(word) { break }
            nonASCII |= word
            i += 8
        }
        var high: UInt8 = 0
        while i < bytes.count {
            let b = bytes[i]
            if b == UInt8(ascii: "\"") {
                let text = UnsafeBufferPointer(rebasing: bytes[start..<i])
                if nonASCII & 0x8080_8080_8080_8080 != 0 || high & 0x80 != 0 {
                    guard let s = String(validating: text, as: UTF8.self) else { throw failure("invalid UTF-8 in a string") }
                    i += 1
                    return s
                }
                let s = String(decoding: text, as: UTF8.self)
                i += 1
                return s
            }
            if b == UInt8(ascii: "\\") { break }
            if b < 0x20 { throw failure("control character in a string") }
            high |= b
            i += 1
        }
        var out = Array(bytes[start..<i])
        while i < bytes.count {
            let b = bytes[i]
            if b == UInt8(ascii: "\"") {
                guard let s = String(validating: out, as: UTF8.self) else { throw failure("invalid UTF-8 in a string") }
                i += 1
                return s
            }
            if b < 0x20 { throw failure("control character in a string") }
            if b != UInt8(ascii: "\\") { out.append(b); i += 1; continue }
            i += 1
            guard i < bytes.count else { break }
            let e = bytes[i]
            i += 1
            switch e {
            case UInt8(ascii: "\""): out.append(0x22)
            case UInt8(ascii: "\\"): out.append(0x5C)
            case UInt8(ascii: "/"): out.append(0x2F)
            case UInt8(ascii: "b"): out.append(0x08)
            case UInt8(ascii: "f"): out.append(0x0C)
            case UInt8(ascii: "n"): out.append(0x0A)
            case UInt8(ascii: "r"): out.append(0x0D)
            case UInt8(ascii: "t"): out.append(0x09)
            case UInt8(ascii: "u"):
                var scalar = try hex4()
                if (0xD800..<0xDC00).contains(scalar), i + 1 < bytes.count, bytes[i] == UInt8(ascii: "\\"),
                    bytes[i + 1] == UInt8(ascii: "u")
                {
                    let save = i
                    i += 2
                    let low = try hex4()
                    if (0xDC00..<0xE000).contains(low) {
                        scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00)
                    } else {
                        i = save
                    }
                }
                // A lone surrogate cannot be a Swift character: it becomes U+FFFD.
                out.append(contentsOf: String(Character(Unicode.Scalar(scalar) ?? "\u{FFFD}")).utf8)
            default:
                throw failure("invalid escape '\\\(Character(Unicode.Scalar(e)))' in a string")
            }
        }
        throw failure("unterminated string")
    }

    /// Whether any byte of `word` is a quote, a backslash or below 0x20. Each test is exact for "any byte"
    /// (a borrow can only flag bytes above a byte that really matches).
    @inline(__always)
    static func endsPlainRun(_ word: UInt64) -> Bool {
        let ones: UInt64 = 0x0101_0101_0101_0101, highs: UInt64 = 0x8080_8080_8080_8080
        let quote = word ^ (ones &* 0x22), backslash = word ^ (ones &* 0x5C)
        let zeroQuote = (quote &- ones) & ~quote
        let zeroBackslash = (backslash &- ones) & ~backslash
        let control = (word &- ones &* 0x20) & ~word
        return (zeroQuote | zeroBackslash | control) & highs != 0
    }

    private mutating func hex4() throws -> UInt32 {
        guard i + 4 <= bytes.count else { throw failure("invalid \\u escape") }
        var v: UInt32 = 0
        for _ in 0..<4 {
            guard let d = PythonLiteral.hexValue(Unicode.Scalar(bytes[i])) else { throw failure("invalid \\u escape") }
            v = v * 16 + d
            i += 1
        }
        return v
    }
}
