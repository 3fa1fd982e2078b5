import FWBase

/// JSON output of inventory values, identical to Python's `json.dumps(..., sort_keys=True, indent=4)` as
/// `ansible-inventory` uses it: keys sorted by code point, UTF-8 left as is (only `"`, `\` and control characters
/// escaped), floats as Python writes them.
extension InventoryValue {
    public enum JSONStyle: Sendable {
        /// Python's `indent=N`: one item per line.
        case indented(Int)
        /// Python's default separators: `{"a": [1, 2]}`.
        case compact
    }

    public func jsonText(style: JSONStyle = .indented(4)) -> String {
        var writer = JSONWriter(style: style)
        writer.write(self, level: 0)
        return String(decoding: writer.bytes, as: UTF8.self)
    }
}

/// Appends JSON to a byte buffer; used for single values and for whole inventories (`--list` of 10,000 hosts).
struct JSONWriter {
    let indent: Int?
    var bytes: [UInt8] = []
    /// Unsafe strings as `{"__ansible_unsafe": "..."}` (ansible-inventory --list) rather than plain (--host).
    var marksUnsafe = false

    init(style: InventoryValue.JSONStyle) {
        if case .indented(let n) = style { indent = n } else { indent = nil }
    }

    mutating func write(_ value: InventoryValue, level: Int) {
        switch value {
        case .null: append("null")
        case .bool(let b): append(b ? "true" : "false")
        case .int(let i): append(String(i))
        case .double(let d): append(PythonNumberFormat.json(d))
        case .string(let s): writeString(s)
        case .unsafe(let s):
            guard marksUnsafe else { writeString(s); return }
            writeObject([(key: "__ansible_unsafe", value: s)], level: level) { writer, text, _ in writer.writeString(text) }
        case .list(let items):
            if items.isEmpty { append("[]"); return }
            bytes.append(UInt8(ascii: "["))
            for (i, item) in items.enumerated() {
                separator(first: i == 0, level: level + 1)
                write(item, level: level + 1)
            }
            close(UInt8(ascii: "]"), level: level)
        case .dict(let dict):
            writeObject(dict.sortedByCodePoint(), level: level) { writer, value, level in
                writer.write(value, level: level)
            }
        }
    }

    /// Writes an object whose members are already in output order.
    mutating func writeObject<V>(
        _ members: [(key: String, value: V)], level: Int,
        writeValue: (inout JSONWriter, V, Int) -> Void
    ) {
        if members.isEmpty { append("{}"); return }
        bytes.append(UInt8(ascii: "{"))
        for (i, member) in members.enumerated() {
            separator(first: i == 0, level: level + 1)
            writeString(member.key)
            append(": ")
            writeValue(&self, member.value, level + 1)
        }
        close(UInt8(ascii: "}"), level: level)
    }

    mutating func separator(first: Bool, level: Int) {
        if let indent {
            if !first { bytes.append(UInt8(ascii: ",")) }
            newline(indent * level)
        } else if !first {
            append(", ")
        }
    }

    mutating func close(_ bracket: UInt8, level: Int) {
        if let indent { newline(indent * level) }
        bytes.append(bracket)
    }

    private static let spaces = [UInt8](repeating: UInt8(ascii: " "), count: 256)

    private mutating func newline(_ width: Int) {
        bytes.append(UInt8(ascii: "\n"))
        if width <= Self.spaces.count {
            bytes.append(contentsOf: Self.spaces[0..<width])
        } else {
            bytes.append(contentsOf: repeatElement(UInt8(ascii: " "), count: width))
        }
    }

    mutating func append(_ text: String) {
        bytes.append(contentsOf: text.utf8)
    }

    private static let hex: [UInt8] = Array("0123456789abcdef".utf8)

    mutating func writeString(_ text: String) {
        bytes.append(UInt8(ascii: "\""))
        // Characters that could act on a terminal (C1 controls, DEL, bidirectional and other invisible format
        // characters, line separators) are written as \u escapes too: the same JSON value, which Python's json
        // module (ensure_ascii=False, as ansible-inventory writes) would print raw. Such text goes a scalar at a time.
        if text.utf8.contains(where: { $0 >= 0x7F }), text.unicodeScalars.contains(where: { $0.value >= 0x7F && DisplayEscaping.isUnsafe($0) }) {
            for scalar in text.unicodeScalars {
                if scalar.value < 0x20 || scalar == "\"" || scalar == "\\" || (scalar.value >= 0x7F && DisplayEscaping.isUnsafe(scalar)) {
                    appendEscaped(scalar.value)
                } else {
                    bytes.append(contentsOf: String(scalar).utf8)
                }
            }
            bytes.append(UInt8(ascii: "\""))
            return
        }
        var text = text
        text.withUTF8 { utf8 in
            // Copy runs of plain bytes at once; escape only quotes, backslashes and control characters.
            var start = 0
            for i in 0..<utf8.count {
                let byte = utf8[i]
                guard byte < 0x20 || byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "\\") else { continue }
                bytes.append(contentsOf: UnsafeBufferPointer(rebasing: utf8[start..<i]))
                start = i + 1
                appendEscaped(UInt32(byte))
            }
            bytes.append(contentsOf: UnsafeBufferPointer(rebasing: utf8[start...]))
        }
        bytes.append(UInt8(ascii: "\""))
    }

    /// The JSON escape of one character: Python's short forms where it has one, else \u (a surrogate pair above
    /// U+FFFF).
    private mutating func appendEscaped(_ value: UInt32) {
        switch value {
        case 0x22: append("\\\"")
        case 0x5C: append("\\\\")
        case 0x0A: append("\\n")
        case 0x0D: append("\\r")
        case 0x09: append("\\t")
        case 0x08: append("\\b")
        case 0x0C: append("\\f")
        case 0x10000...:
            appendEscaped(0xD800 + ((value - 0x10000) >> 10))
            appendEscaped(0xDC00 + ((value - 0x10000) & 0x3FF))
        default:
            append("\\u")
            for shift in stride(from: 12, through: 0, by: -4) { bytes.append(Self.hex[Int((value >> UInt32(shift)) & 0xF)]) }
        }
    }
}

extension Dictionary where Key == String {
    /// Members sorted the way Python sorts str keys: by code point (which UTF-8 byte order preserves).
    func sortedByCodePoint() -> [(key: String, value: Value)] {
        sorted { $0.key.utf8.lexicographicallyPrecedes($1.key.utf8) }
    }
}
