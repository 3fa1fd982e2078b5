import Synchronization

/// One instruction of a compiled template. All templates of a set share one flat instruction array; a section's
/// body is the instructions between it and its `end`, so rendering is a loop over a range with no tree walking.
struct Instruction {
    enum Code: UInt8 {
        /// Static text: bytes `a..<b` of the pool. `flags`: `startsLine`, `hasInnerLineStarts`.
        case text
        /// `{{name}}`: name `a`, escaped according to the set's escaping.
        case escaped
        /// `{{{name}}}` / `{{&name}}`: name `a`, not HTML-escaped (rules escaping still checks it).
        case raw
        /// `{{#name}}`: name `a`; the body runs to instruction `b`.
        case section
        /// `{{^name}}`: name `a`; the body runs to instruction `b`.
        case inverted
        /// `{{> partial}}`: template `a` (-1: a missing partial in lenient mode, renders nothing);
        /// when standalone (`flags`), pool bytes `b..<c` are its indentation.
        case partial
        /// `{{>*name}}`: the partial whose name is the value of name `a`; `flags`, `b`, `c` as for `partial`.
        case dynamicPartial
        /// The start of a line that begins with a tag: writes the current partial indentation, if any.
        case indent
    }

    static let startsLine: UInt8 = 1
    static let hasInnerLineStarts: UInt8 = 2
    static let standalone: UInt8 = 1

    var code: Code
    var flags: UInt8 = 0
    var a: Int32 = 0
    var b: Int32 = 0
    var c: Int32 = 0
    /// Pool offset of the tag this instruction came from, for error positions.
    var site: Int32 = 0
}

/// A name as written in a tag, split into its dotted parts.
struct CompiledName {
    let text: String
    /// Empty for the implicit iterator `.`.
    let parts: [String]

    init(_ text: String) {
        self.text = text
        parts = text == "." ? [] : text.split(separator: ".", omittingEmptySubsequences: false).map(String.init)
    }
}

/// Where a name's parts sit in `CompiledSet.partHashes` / `partKeys`; `count` 0 is the implicit iterator.
struct NameEntry {
    var first: Int32
    var count: Int32
}

struct CompiledTemplate {
    let name: String
    let file: String
    /// Where its text sits in the pool.
    let source: Range<Int>
    /// Its instructions.
    let instructions: Range<Int>
}

/// A template set after compiling and linking: immutable, shared by every `Template` of the set and by every
/// render on every thread. The instruction and text arrays live in memory this object owns, so the renderer
/// reads them through plain pointers (no bounds checks, no reference counting per instruction).
/// @unchecked Sendable: the compiler cannot see through raw pointers; everything is written in init and only read
/// after it, so sharing across threads is safe.
final class CompiledSet: @unchecked Sendable {
    let pool: UnsafeMutableBufferPointer<UInt8>
    let instructions: UnsafeMutableBufferPointer<Instruction>
    /// Names as written, for messages.
    let names: [CompiledName]
    /// The renderer's view of `names`: per name, its parts' range in `partHashes` and `partKeys`.
    let nameEntries: UnsafeMutableBufferPointer<NameEntry>
    let partHashes: UnsafeMutableBufferPointer<UInt64>
    let partKeys: [String]
    /// Per template, the size of its last output, to size the next output buffer in one allocation.
    let sizeHints: [SizeHint]
    let templates: [CompiledTemplate]
    let templateIndex: [String: Int]
    let options: TemplateOptions
    /// For `.rules`: 1 where a byte is rule-safe. For `.html`: 0 where a byte passes, else its entry in
    /// `Escapes.html`. Unused for `.none`.
    let escapeTable: UnsafeMutablePointer<UInt8>

    init(
        pool: [UInt8], instructions: [Instruction], names: [CompiledName], templates: [CompiledTemplate],
        templateIndex: [String: Int], options: TemplateOptions
    ) {
        self.pool = .allocate(capacity: max(pool.count, 1))
        _ = self.pool.initialize(from: pool)
        self.instructions = .allocate(capacity: max(instructions.count, 1))
        _ = self.instructions.initialize(from: instructions)
        self.names = names
        nameEntries = .allocate(capacity: max(names.count, 1))
        var keys: [String] = []
        for (i, name) in names.enumerated() {
            nameEntries[i] = NameEntry(first: Int32(keys.count), count: Int32(name.parts.count))
            keys.append(contentsOf: name.parts)
        }
        partKeys = keys
        partHashes = .allocate(capacity: max(keys.count, 1))
        _ = partHashes.initialize(from: keys.map(TemplateObject.hash))
        sizeHints = templates.map { _ in SizeHint() }
        self.templates = templates
        self.templateIndex = templateIndex
        self.options = options
        escapeTable = .allocate(capacity: 256)
        for byte in 0..<256 {
            switch options.escaping {
            case .rules: escapeTable[byte] = RuleSafety.isAllowed(UInt8(byte)) ? 1 : 0
            case .html: escapeTable[byte] = Escapes.htmlIndex(UInt8(byte))
            case .none: escapeTable[byte] = 0
            }
        }
    }

    deinit {
        pool.deallocate()
        instructions.deallocate()
        nameEntries.deallocate()
        partHashes.deallocate()
        escapeTable.deallocate()
    }

    /// The template an instruction belongs to.
    func template(containing instruction: Int) -> Int {
        var low = 0, high = templates.count - 1
        while low < high {
            let mid = (low + high + 1) / 2
            if templates[mid].instructions.lowerBound <= instruction { low = mid } else { high = mid - 1 }
        }
        return low
    }

    /// Line and column (in Unicode scalars) of a pool offset inside template `index`.
    func position(of offset: Int, inTemplate index: Int) -> (line: Int, column: Int) {
        SourcePosition.of(offset, in: UnsafeBufferPointer(pool), from: templates[index].source.lowerBound)
    }

    /// An error located at instruction `instruction`'s tag.
    func error(
        _ kind: TemplateError.Kind, at instruction: Int, message: String, help: String
    ) -> TemplateError {
        let index = template(containing: instruction)
        let where_ = position(of: Int(instructions[instruction].site), inTemplate: index)
        let template = templates[index]
        return TemplateError(
            kind, template: template.name, file: template.file, line: where_.line, column: where_.column,
            message: message, help: help)
    }
}

/// The last output size of a template, shared by concurrent renders (a hint: any value is correct).
final class SizeHint: Sendable {
    let bytes = Atomic<Int>(0)
}

enum SourcePosition {
    /// Line and column of `offset`, counting from `start` (line 1, column 1; columns in Unicode scalars).
    static func of(_ offset: Int, in bytes: UnsafeBufferPointer<UInt8>, from start: Int) -> (line: Int, column: Int) {
        var line = 1, column = 1
        var i = start
        while i < offset && i < bytes.count {
            let byte = bytes[i]
            if byte == UInt8(ascii: "\n") {
                line += 1
                column = 1
            } else if byte & 0xC0 != 0x80 {
                column += 1
            }
            i += 1
        }
        return (line, column)
    }
}

enum Escapes {
    /// Replacements for HTML escaping, indexed by `htmlIndex`.
    static let html: [[UInt8]] = [[], Array("&amp;".utf8), Array("&lt;".utf8), Array("&gt;".utf8),
        Array("&quot;".utf8), Array("&#39;".utf8)]

    static func htmlIndex(_ byte: UInt8) -> UInt8 {
        switch byte {
        case UInt8(ascii: "&"): return 1
        case UInt8(ascii: "<"): return 2
        case UInt8(ascii: ">"): return 3
        case UInt8(ascii: "\""): return 4
        case UInt8(ascii: "'"): return 5
        default: return 0
        }
    }
}
