/// Turns template sources into one linked `CompiledSet`: parses each source into instructions (applying the
/// spec's standalone-line rules at compile time), interns names, then resolves partial names to templates.
struct Compiler {
    let options: TemplateOptions
    private var pool: [UInt8] = []
    private var instructions: [Instruction] = []
    private var names: [CompiledName] = []
    private var nameIDs: [String: Int32] = [:]
    private var templates: [CompiledTemplate] = []
    /// Partial instructions waiting for their target: instruction index, partial name.
    private var partialReferences: [(instruction: Int, name: String)] = []

    init(options: TemplateOptions) {
        self.options = options
    }

    mutating func add(_ source: TemplateSource) throws(TemplateError) {
        let start = pool.count
        pool.append(contentsOf: source.text.utf8)
        guard pool.count < Int(Int32.max) else {
            throw TemplateError(
                .limitExceeded, template: source.name, file: source.file,
                message: "the templates together are larger than 2 GiB", help: "split them into smaller sets")
        }
        let firstInstruction = instructions.count
        var parser = Parser(
            source: source, start: start, end: pool.count, options: options)
        try parser.parse(into: &self)
        templates.append(
            CompiledTemplate(
                name: source.name, file: source.file ?? source.name, source: start..<pool.count,
                instructions: firstInstruction..<instructions.count))
    }

    /// Resolves partials and freezes the set.
    mutating func link() throws(TemplateError) -> CompiledSet {
        var index: [String: Int] = [:]
        for (i, template) in templates.enumerated() {
            if let other = index[template.name] {
                throw TemplateError(
                    .duplicateName, template: template.name, file: template.file,
                    message: "two templates are named '\(template.name)' (also \(templates[other].file))",
                    help: "rename one of them")
            }
            index[template.name] = i
        }
        // A partial the set lacks renders nothing (-1); strict mode refuses the set, naming the first one.
        var unknown: (instruction: Int, name: String)? = nil
        for reference in partialReferences {
            let target = index[reference.name]
            instructions[reference.instruction].a = Int32(target ?? -1)
            if target == nil && unknown == nil { unknown = reference }
        }
        let set = CompiledSet(
            pool: pool, instructions: instructions, names: names, templates: templates, templateIndex: index,
            options: options)
        if options.strict, let unknown {
            let known = templates.map(\.name).sorted()
            throw set.error(
                .unknownPartial, at: unknown.instruction, message: "unknown partial '\(unknown.name)'",
                help: known.isEmpty
                    ? "there are no partials; add \(unknown.name).mustache to the partials folder"
                    : "add \(unknown.name).mustache to the partials folder (known: \(Self.list(known)))")
        }
        return set
    }

    private static func list(_ names: [String]) -> String {
        names.count <= 12 ? names.joined(separator: ", ") : names.prefix(12).joined(separator: ", ") + ", ..."
    }

    // MARK: Used by the parser

    fileprivate var poolCount: Int { pool.count }

    fileprivate func byte(_ offset: Int) -> UInt8 { pool[offset] }

    fileprivate func withPool<R>(_ body: (UnsafeBufferPointer<UInt8>) -> R) -> R {
        pool.withUnsafeBufferPointer(body)
    }

    fileprivate var instructionCount: Int { instructions.count }

    fileprivate mutating func emit(_ instruction: Instruction) {
        instructions.append(instruction)
    }

    fileprivate mutating func setEnd(ofSection section: Int) {
        instructions[section].b = Int32(instructions.count)
    }

    fileprivate mutating func intern(_ name: String) -> Int32 {
        if let id = nameIDs[name] { return id }
        let id = Int32(names.count)
        names.append(CompiledName(name))
        nameIDs[name] = id
        return id
    }

    fileprivate mutating func referPartial(_ name: String, from instruction: Int) {
        partialReferences.append((instruction, name))
    }
}

/// Parses one template source, appending its instructions to the compiler.
private struct Parser {
    enum TagKind {
        case escaped, raw, section, inverted, close, comment, partial, delimiters
        /// Standalone-capable tags vanish with their whole line when alone on it.
        var canStandAlone: Bool {
            switch self {
            case .section, .inverted, .close, .comment, .partial, .delimiters: return true
            case .escaped, .raw: return false
            }
        }
    }

    struct OpenSection {
        let instruction: Int
        let name: String
        let site: Int
    }

    let source: TemplateSource
    let start: Int
    let end: Int
    let options: TemplateOptions
    var open: [UInt8] = Array("{{".utf8)
    var close: [UInt8] = Array("}}".utf8)
    var sections: [OpenSection] = []

    init(source: TemplateSource, start: Int, end: Int, options: TemplateOptions) {
        self.source = source
        self.start = start
        self.end = end
        self.options = options
    }

    mutating func parse(into compiler: inout Compiler) throws(TemplateError) {
        // Text runs from `textStart` to the next tag; `textStartsLine` says whether `textStart` begins a line.
        var textStart = start
        var textStartsLine = true
        var position = start
        while true {
            guard let tagStart = find(open, from: position, in: compiler) else {
                emitText(textStart..<end, startsLine: textStartsLine, into: &compiler)
                break
            }
            let tag = try readTag(at: tagStart, in: compiler)
            position = tag.end

            // Standalone: only spaces/tabs around the tag on its line; the whole line then disappears.
            var standalone: (lineStart: Int, next: Int)? = nil
            if tag.kind.canStandAlone,
                let lineStart = lineStart(before: tagStart, textStart: textStart, textStartsLine: textStartsLine,
                    in: compiler),
                let next = lineEnd(after: tag.end, in: compiler)
            {
                standalone = (lineStart, next)
            }

            if let standalone {
                emitText(textStart..<standalone.lineStart, startsLine: textStartsLine, into: &compiler)
                textStart = standalone.next
                textStartsLine = true
                position = standalone.next
            } else {
                emitText(textStart..<tagStart, startsLine: textStartsLine, into: &compiler)
                let tagStartsLine = tagStart == textStart
                    ? textStartsLine : compiler.byte(tagStart - 1) == UInt8(ascii: "\n")
                textStart = tag.end
                textStartsLine = false
                // The line's partial indentation goes before a tag that begins a line (text carries its own).
                if tagStartsLine { compiler.emit(Instruction(code: .indent, site: Int32(tagStart))) }
            }
            try handle(tag, standalone: standalone, into: &compiler)
        }
        if let unclosed = sections.last {
            throw error(
                at: unclosed.site, in: compiler,
                "section '\(unclosed.name)' is never closed",
                help: "add {{/\(unclosed.name)}} where it ends")
        }
    }

    struct Tag {
        let kind: TagKind
        let start: Int
        let end: Int
        /// The tag's content without sigils, trimmed.
        let content: String
    }

    /// Reads the tag whose opening delimiter is at `tagStart`.
    func readTag(at tagStart: Int, in compiler: Compiler) throws(TemplateError) -> Tag {
        var p = tagStart + open.count
        let sigil: UInt8 = p < end ? compiler.byte(p) : 0
        var kind = TagKind.escaped
        var terminator = close
        switch sigil {
        case UInt8(ascii: "{"): kind = .raw; terminator = [UInt8(ascii: "}")] + close
        case UInt8(ascii: "&"): kind = .raw
        case UInt8(ascii: "#"): kind = .section
        case UInt8(ascii: "^"): kind = .inverted
        case UInt8(ascii: "/"): kind = .close
        case UInt8(ascii: "!"): kind = .comment
        case UInt8(ascii: ">"): kind = .partial
        case UInt8(ascii: "="): kind = .delimiters; terminator = [UInt8(ascii: "=")] + close
        case UInt8(ascii: "<"), UInt8(ascii: "$"):
            throw error(
                at: tagStart, in: compiler, "template inheritance ({{<parent}}, {{$block}}) is not supported",
                help: "use partials ({{> name}}) instead")
        default: break
        }
        if kind != .escaped { p += 1 }
        guard let contentEnd = find(terminator, from: p, in: compiler) else {
            let expected = String(decoding: terminator, as: UTF8.self)
            let opened = String(decoding: open, as: UTF8.self)
            throw error(
                at: tagStart, in: compiler, "tag '\(opened)' is never closed with '\(expected)'",
                help: "close the tag, or if '\(opened)' is meant as text, change the delimiters with {{=<% %>=}}")
        }
        let content = compiler.withPool { String(decoding: $0[p..<contentEnd], as: UTF8.self) }
        return Tag(kind: kind, start: tagStart, end: contentEnd + terminator.count, content: Self.trim(content))
    }

    mutating func handle(
        _ tag: Tag, standalone: (lineStart: Int, next: Int)?, into compiler: inout Compiler
    ) throws(TemplateError) {
        let site = Int32(tag.start)
        switch tag.kind {
        case .comment:
            break
        case .delimiters:
            try setDelimiters(tag, in: compiler)
        case .escaped, .raw:
            let name = try validName(tag, in: compiler)
            compiler.emit(Instruction(code: tag.kind == .raw ? .raw : .escaped, a: compiler.intern(name), site: site))
        case .section, .inverted:
            let name = try validName(tag, in: compiler)
            guard sections.count < options.limits.sectionNesting else {
                throw error(
                    at: tag.start, in: compiler,
                    "sections nest deeper than \(options.limits.sectionNesting) levels",
                    help: "flatten the template")
            }
            sections.append(OpenSection(instruction: compiler.instructionCount, name: name, site: tag.start))
            compiler.emit(
                Instruction(code: tag.kind == .section ? .section : .inverted, a: compiler.intern(name), site: site))
        case .close:
            let name = try validName(tag, in: compiler)
            guard let open = sections.popLast() else {
                throw error(
                    at: tag.start, in: compiler, "{{/\(name)}} closes a section that is not open",
                    help: "remove it, or open the section with {{#\(name)}}")
            }
            guard open.name == name else {
                let position = compiler.withPool { SourcePosition.of(open.site, in: $0, from: start) }
                throw error(
                    at: tag.start, in: compiler,
                    "{{/\(name)}} does not match the open section '\(open.name)' (line \(position.line), column \(position.column))",
                    help: "close '\(open.name)' with {{/\(open.name)}} first")
            }
            compiler.setEnd(ofSection: open.instruction)
        case .partial:
            var instruction = Instruction(code: .partial, a: -1, site: site)
            if let standalone {
                instruction.flags = Instruction.standalone
                instruction.b = Int32(standalone.lineStart)
                instruction.c = Int32(tag.start)
            }
            if tag.content.hasPrefix("*") {
                // Dynamic name: {{>*x}} includes the partial named by the value of x.
                let dynamic = Tag(kind: .partial, start: tag.start, end: tag.end, content: Self.trim(String(tag.content.dropFirst())))
                instruction.code = .dynamicPartial
                instruction.a = compiler.intern(try validName(dynamic, in: compiler))
                compiler.emit(instruction)
                return
            }
            let name = tag.content
            guard !name.isEmpty, !name.utf8.contains(where: Self.isWhitespace) else {
                throw error(
                    at: tag.start, in: compiler, "partial tag needs one name, got '\(name)'",
                    help: "write {{> name}} for the template name.mustache")
            }
            compiler.referPartial(name, from: compiler.instructionCount)
            compiler.emit(instruction)
        }
    }

    mutating func setDelimiters(_ tag: Tag, in compiler: Compiler) throws(TemplateError) {
        let parts = tag.content.utf8.split(whereSeparator: Self.isWhitespace).map { Array($0) }
        let help = "write {{=OPEN CLOSE=}}: two delimiters separated by a space, without '=' or spaces in them"
        guard parts.count == 2 else {
            throw error(at: tag.start, in: compiler, "bad delimiter tag '\(tag.content)'", help: help)
        }
        for part in parts where part.contains(UInt8(ascii: "=")) {
            throw error(
                at: tag.start, in: compiler, "delimiter '\(String(decoding: part, as: UTF8.self))' contains '='",
                help: help)
        }
        for part in parts where part.count > options.limits.delimiterLength {
            throw error(
                at: tag.start, in: compiler,
                "delimiter is longer than \(options.limits.delimiterLength) bytes", help: help)
        }
        open = parts[0]
        close = parts[1]
    }

    /// A tag name: `.`, or dotted parts without whitespace and without empty parts.
    func validName(_ tag: Tag, in compiler: Compiler) throws(TemplateError) -> String {
        let name = tag.content
        if name == "." { return name }
        let problem: String?
        if name.isEmpty {
            problem = "an empty tag has no name"
        } else if name.utf8.contains(where: Self.isWhitespace) {
            problem = "'\(name)' is not one name (it has spaces)"
        } else if name.split(separator: ".", omittingEmptySubsequences: false).contains(where: \.isEmpty) {
            problem = "'\(name)' has an empty part between dots"
        } else {
            problem = nil
        }
        if let problem {
            throw error(
                at: tag.start, in: compiler, problem,
                help: "write a name like {{port}} or {{rule.port}}, or {{.}} for the current item")
        }
        return name
    }

    func emitText(_ range: Range<Int>, startsLine: Bool, into compiler: inout Compiler) {
        guard !range.isEmpty else { return }
        var flags: UInt8 = startsLine ? Instruction.startsLine : 0
        let innerLineStart = compiler.withPool { pool in
            pool[range.lowerBound..<(range.upperBound - 1)].contains(UInt8(ascii: "\n"))
        }
        if innerLineStart { flags |= Instruction.hasInnerLineStarts }
        compiler.emit(
            Instruction(
                code: .text, flags: flags, a: Int32(range.lowerBound), b: Int32(range.upperBound),
                site: Int32(range.lowerBound)))
    }

    /// Where the line holding a tag at `tagStart` starts, if only spaces and tabs precede the tag on it.
    func lineStart(before tagStart: Int, textStart: Int, textStartsLine: Bool, in compiler: Compiler) -> Int? {
        var i = tagStart
        while i > textStart {
            let byte = compiler.byte(i - 1)
            if byte == UInt8(ascii: "\n") { return i }
            if byte != UInt8(ascii: " ") && byte != UInt8(ascii: "\t") { return nil }
            i -= 1
        }
        return textStartsLine ? textStart : nil
    }

    /// Where the next line starts after a tag ending at `tagEnd`, if only spaces and tabs follow it on its line.
    func lineEnd(after tagEnd: Int, in compiler: Compiler) -> Int? {
        var i = tagEnd
        while i < end {
            switch compiler.byte(i) {
            case UInt8(ascii: " "), UInt8(ascii: "\t"): i += 1
            case UInt8(ascii: "\n"): return i + 1
            case UInt8(ascii: "\r"):
                return i + 1 < end && compiler.byte(i + 1) == UInt8(ascii: "\n") ? i + 2 : nil
            default: return nil
            }
        }
        return end
    }

    /// The offset of the first occurrence of `needle` in the source at or after `from`.
    func find(_ needle: [UInt8], from: Int, in compiler: Compiler) -> Int? {
        compiler.withPool { pool -> Int? in
            guard let first = needle.first, needle.count <= end - from else { return nil }
            var i = from
            let last = end - needle.count
            while i <= last {
                if pool[i] == first {
                    var j = 1
                    while j < needle.count && pool[i + j] == needle[j] { j += 1 }
                    if j == needle.count { return i }
                }
                i += 1
            }
            return nil
        }
    }

    func error(at offset: Int, in compiler: Compiler, _ message: String, help: String) -> TemplateError {
        let position = compiler.withPool { SourcePosition.of(offset, in: $0, from: start) }
        return TemplateError(
            .syntax, template: source.name, file: source.file, line: position.line, column: position.column,
            message: message, help: help)
    }

    static func isWhitespace(_ byte: UInt8) -> Bool {
        byte == UInt8(ascii: " ") || byte == UInt8(ascii: "\t") || byte == UInt8(ascii: "\n")
            || byte == UInt8(ascii: "\r")
    }

    static func trim(_ text: String) -> String {
        let bytes = Array(text.utf8)
        var low = 0, high = bytes.count
        while low < high && isWhitespace(bytes[low]) { low += 1 }
        while high > low && isWhitespace(bytes[high - 1]) { high -= 1 }
        return String(decoding: bytes[low..<high], as: UTF8.self)
    }
}
