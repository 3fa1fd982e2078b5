#if canImport(Glibc)
import Glibc
#endif
/// Runs a compiled template over data, appending to one byte buffer. One renderer per render: it owns the
/// output and the context stack, and only reads the shared `CompiledSet`, so renders on many threads at once
/// are independent.
struct Renderer: ~Copyable {
    typealias ObjectStorage = TemplateObject.Storage

    let set: CompiledSet
    let instructions: UnsafeMutableBufferPointer<Instruction>
    let pool: UnsafeMutableBufferPointer<UInt8>
    let escapeTable: UnsafeMutablePointer<UInt8>
    let nameEntries: UnsafeMutableBufferPointer<NameEntry>
    let partHashes: UnsafeMutableBufferPointer<UInt64>
    let escaping: TemplateOptions.Escaping
    let strict: Bool
    let limits: TemplateLimits

    /// The output: one buffer, grown geometrically, sized from the template's last output. `bytes` and
    /// `capacity` repeat `memory`'s, read on every write.
    private var memory: OutputMemory
    private(set) var bytes: UnsafeMutablePointer<UInt8>
    private(set) var count = 0
    private var capacity: Int

    /// The context stack: the data, then each section's value; names resolve from the top down. Entries point
    /// into the data, which nothing changes while it renders (the caller holds it), so pushing a list's items
    /// copies and retains nothing. `objects` holds each entry's object storage (if it is an object), so lookups
    /// need not look into the value. Its size is bounded by `limits.renderDepth`, checked before every push.
    private let values: UnsafeMutablePointer<UnsafePointer<TemplateValue>>
    private let objects: UnsafeMutablePointer<Unmanaged<ObjectStorage>?>
    private var stackCount = 0
    private let stackCapacity: Int
    /// Where names were last found (see `resolve`): a small table indexed by instruction, so that a render of a
    /// large set (every target's templates) does not pay to clear an entry for each of its instructions.
    private let lookups: UnsafeMutablePointer<Lookup>
    static let lookupSlots = 256

    /// The indentation of the standalone partials being rendered, written at each line start.
    var indent: [UInt8] = [] {
        didSet { indented = !indent.isEmpty }
    }
    /// `!indent.isEmpty`, read for every instruction without touching the array.
    private var indented = false
    /// The partial instructions being rendered, outermost first, for recursion errors.
    var partialCalls: [Int] = []
    var depth = 0
    var iterations = 0
    /// Set when a write would pass `limits.outputBytes`: the write is dropped and rendering stops at the next
    /// instruction with an error. Every write is bounded this way, not only section iterations, so one huge
    /// value interpolated many times cannot make the buffer outgrow the limit.
    private var outputOverflowed = false

    init(set: CompiledSet, capacity: Int) {
        self.set = set
        instructions = set.instructions
        pool = set.pool
        escapeTable = set.escapeTable
        nameEntries = set.nameEntries
        partHashes = set.partHashes
        escaping = set.options.escaping
        strict = set.options.strict
        limits = set.options.limits
        memory = OutputMemory(capacity: Swift.max(1, Swift.min(Swift.max(capacity, 256), limits.outputBytes)))
        bytes = memory.base
        self.capacity = memory.capacity
        stackCapacity = max(limits.renderDepth, 0) + 2
        values = .allocate(capacity: stackCapacity)
        objects = .allocate(capacity: stackCapacity)
        lookups = .allocate(capacity: Self.lookupSlots)
        lookups.initialize(repeating: Lookup(), count: Self.lookupSlots)
    }

    deinit {
        values.deallocate()
        objects.deallocate()
        lookups.deallocate()
    }

    var output: UnsafeBufferPointer<UInt8> { UnsafeBufferPointer(start: bytes, count: count) }

    mutating func render(template index: Int, data: TemplateValue) throws(TemplateError) {
        let range = set.templates[index].instructions
        try withUnsafePointer(to: data) { (root) throws(TemplateError) in
            push(root)
            defer { pop() }
            try run(range.lowerBound, range.upperBound)
        }
        try checkOutputLimit(at: Swift.max(range.lowerBound, range.upperBound - 1))
    }

    mutating func run(_ start: Int, _ end: Int) throws(TemplateError) {
        var i = start
        while i < end {
            if outputOverflowed { throw outputLimitError(at: i) }
            let instruction = instructions[i]
            switch instruction.code {
            case .text:
                if !indented || instruction.flags == 0 {
                    append(pool.baseAddress! + Int(instruction.a), Int(instruction.b &- instruction.a))
                } else {
                    writeIndented(instruction)
                }
                i += 1
                // Text is most often followed by a tag: taking it here saves a dispatch through the switch, whose
                // indirect jump is most of what an instruction costs.
                if i < end, !outputOverflowed, instructions[i].code == .escaped {
                    try interpolate(i, instructions[i])
                    i += 1
                }
            case .escaped, .raw:
                try interpolate(i, instruction)
                i += 1
            case .section:
                try section(i, instruction)
                i = Int(instruction.b)
            case .inverted:
                try inverted(i, instruction)
                i = Int(instruction.b)
            case .partial:
                if instruction.a >= 0 { try partial(i, instruction, target: Int(instruction.a)) }
                i += 1
            case .dynamicPartial:
                try dynamicPartial(i, instruction)
                i += 1
            case .indent:
                if indented { append(indent) }
                i += 1
            }
        }
    }

    // MARK: Output

    @inline(__always)
    mutating func append(_ source: UnsafePointer<UInt8>, _ length: Int) {
        if count &+ length > capacity {
            guard count &+ length <= limits.outputBytes else { outputOverflowed = true; return }
            grow(to: count + length)
        }
        Self.copy(source, to: bytes + count, length)
        count &+= length
    }

    /// Copies `length` bytes and says whether every one is rule-safe (`table` holds 1 for those). Eight bytes at
    /// a time, the last eight overlapping the ones before, so nothing is written past `length`.
    @inline(__always)
    static func copyIfRuleSafe(
        _ source: UnsafePointer<UInt8>, to destination: UnsafeMutablePointer<UInt8>, _ length: Int,
        table: UnsafePointer<UInt8>
    ) -> Bool {
        var allowed: UInt8 = 1
        if length >= 8 {
            let from = UnsafeRawPointer(source), to = UnsafeMutableRawPointer(destination)
            let last = length - 8
            var offset = 0
            while true {
                let word = from.loadUnaligned(fromByteOffset: offset, as: UInt64.self)
                to.storeBytes(of: word, toByteOffset: offset, as: UInt64.self)
                allowed &= table[Int(word & 0xFF)] & table[Int(word >> 8 & 0xFF)]
                    & table[Int(word >> 16 & 0xFF)] & table[Int(word >> 24 & 0xFF)]
                    & table[Int(word >> 32 & 0xFF)] & table[Int(word >> 40 & 0xFF)]
                    & table[Int(word >> 48 & 0xFF)] & table[Int(word >> 56)]
                if offset == last { break }
                offset = Swift.min(offset + 8, last)
            }
        } else {
            for k in 0..<length {
                let byte = source[k]
                destination[k] = byte
                allowed &= table[Int(byte)]
            }
        }
        return allowed != 0
    }

    /// Copies `length` bytes; up to 16 inline with two overlapping loads and stores, as most template text
    /// between tags is a few bytes, for which a call to memmove costs more than the copy.
    @inline(__always)
    static func copy(_ source: UnsafePointer<UInt8>, to destination: UnsafeMutablePointer<UInt8>, _ length: Int) {
        let from = UnsafeRawPointer(source), to = UnsafeMutableRawPointer(destination)
        if length > 16 {
            destination.update(from: source, count: length)
        } else if length >= 8 {
            let head = from.loadUnaligned(as: UInt64.self), tail = from.loadUnaligned(fromByteOffset: length - 8, as: UInt64.self)
            to.storeBytes(of: head, as: UInt64.self)
            to.storeBytes(of: tail, toByteOffset: length - 8, as: UInt64.self)
        } else if length >= 4 {
            let head = from.loadUnaligned(as: UInt32.self), tail = from.loadUnaligned(fromByteOffset: length - 4, as: UInt32.self)
            to.storeBytes(of: head, as: UInt32.self)
            to.storeBytes(of: tail, toByteOffset: length - 4, as: UInt32.self)
        } else {
            for k in 0..<length { destination[k] = source[k] }
        }
    }

    @inline(__always)
    mutating func append(_ source: UnsafeBufferPointer<UInt8>) {
        guard let base = source.baseAddress else { return }
        append(base, source.count)
    }

    mutating func append(_ source: [UInt8]) {
        source.withUnsafeBufferPointer { append($0) }
    }

    @inline(__always)
    mutating func append(_ byte: UInt8) {
        if count == capacity {
            guard count < limits.outputBytes else { outputOverflowed = true; return }
            grow(to: count + 1)
        }
        bytes[count] = byte
        count &+= 1
    }

    @inline(never)
    mutating func grow(to needed: Int) {
        memory.grow(to: needed, keeping: count, limit: limits.outputBytes)
        bytes = memory.base
        capacity = memory.capacity
    }

    // MARK: Context stack

    @inline(__always)
    mutating func push(_ value: UnsafePointer<TemplateValue>) {
        precondition(stackCount < stackCapacity, "context stack beyond the render depth limit")
        values[stackCount] = value
        if case .object(let object) = value.pointee {
            objects[stackCount] = Unmanaged.passUnretained(object.storage)
        } else {
            objects[stackCount] = nil
        }
        stackCount += 1
    }

    @inline(__always)
    mutating func pop() {
        stackCount -= 1
    }

    /// The context values, bottom first (for messages).
    var stack: [TemplateValue] { (0..<stackCount).map { values[$0].pointee } }

    // MARK: Names

    /// Where an instruction's name was last found: the stack's height then, the level and object it was found
    /// in and its slot there, and the objects of the (at most two) levels above, which did not have it (nil for
    /// levels that were not objects). The same stack again finds it in the same place without a search: the data
    /// does not change while it renders, so an object that lacked the key still lacks it. Inside a section over
    /// a list (a rule's sources) this is every iteration after the first. Instructions share a slot when their
    /// numbers agree in the low bits; `instruction` says whose the entry is (a miss just searches again).
    struct Lookup {
        var instruction: Int32 = -1
        var height: Int32 = 0
        var level: Int32 = 0
        var slot: Int = 0
        var found: UnsafeRawPointer? = nil
        var above1: UnsafeRawPointer? = nil
        var above2: UnsafeRawPointer? = nil
    }

    @inline(__always)
    func objectIdentity(_ level: Int) -> UnsafeRawPointer? {
        objects[level].map { UnsafeRawPointer($0.toOpaque()) }
    }

    /// Where the value a name resolves to sits, or nil when it resolves to nothing. The first part of a dotted
    /// name is looked up through the context stack from the top; the other parts only inside what it found.
    /// The pointer is valid until the context stack changes. `i` is the instruction asking, for its `Lookup`.
    @inline(__always)
    func resolve(_ nameID: Int32, at i: Int) -> UnsafePointer<TemplateValue>? {
        let entry = nameEntries[Int(nameID)]
        guard entry.count > 0 else { return values[stackCount - 1] }
        let first = Int(entry.first)
        var found: UnsafePointer<TemplateValue>? = nil
        let lookup = lookups + (i & (Self.lookupSlots - 1))
        let cached = lookup.pointee
        if Int(cached.instruction) == i, Int(cached.height) == stackCount, let storage = objects[Int(cached.level)],
           UnsafeRawPointer(storage.toOpaque()) == cached.found,
           cached.level + 1 >= cached.height || objectIdentity(Int(cached.level) + 1) == cached.above1,
           cached.level + 2 >= cached.height || objectIdentity(Int(cached.level) + 2) == cached.above2
        {
            found = storage._withUnsafeGuaranteedRef { $0.valuePointer(cached.slot) }
        } else {
            let hash = partHashes[first]
            var level = stackCount - 1
            while level >= 0 {
                if let storage = objects[level] {
                    let slot = storage._withUnsafeGuaranteedRef { $0.slot(of: set.partKeys[first], hash: hash) }
                    if slot >= 0 {
                        found = storage._withUnsafeGuaranteedRef { $0.valuePointer(slot) }
                        if stackCount - level <= 3 {
                            lookup.pointee = Lookup(
                                instruction: Int32(truncatingIfNeeded: i), height: Int32(stackCount), level: Int32(level), slot: slot,
                                found: UnsafeRawPointer(storage.toOpaque()),
                                above1: level + 1 < stackCount ? objectIdentity(level + 1) : nil,
                                above2: level + 2 < stackCount ? objectIdentity(level + 2) : nil)
                        }
                        break
                    }
                }
                level -= 1
            }
        }
        guard var value = found else { return nil }
        var part = first + 1
        let end = first + Int(entry.count)
        while part < end {
            guard case .object(let object) = value.pointee else { return nil }
            let slot = object.storage.slot(of: set.partKeys[part], hash: partHashes[part])
            guard slot >= 0 else { return nil }
            value = object.storage.valuePointer(slot)
            part += 1
        }
        return value
    }

    /// The strict-mode error for a name that resolves to nothing, saying which part is missing.
    @inline(never)
    func undefined(_ i: Int, _ nameID: Int32, tag: String) -> TemplateError {
        let name = set.names[Int(nameID)]
        var detail = ""
        var help = "define '\(name.parts.first ?? name.text)' in the data"
        if name.parts.count > 1 {
            // Find the deepest prefix that resolves, to say which part is missing.
            var value: TemplateValue? = nil
            for level in stack.indices.reversed() {
                if case .object(let object) = stack[level], let found = object[name.parts[0]] {
                    value = found
                    break
                }
            }
            if var value {
                for part in 1..<name.parts.count {
                    guard case .object(let object) = value, let next = object[name.parts[part]] else {
                        let prefix = name.parts[0..<part].joined(separator: ".")
                        detail = ": '\(prefix)' is \(value.kindName) without '\(name.parts[part])'"
                        help = "define '\(name.parts[part])' in '\(prefix)'"
                        break
                    }
                    value = next
                }
            }
        }
        if tag != "{{" {
            help += ", or give it the value false, null or [] to leave the section out"
        }
        return set.error(
            .undefinedName, at: i, message: "'\(name.text)' is not defined (strict mode, in \(tag)\(name.text)}})\(detail)",
            help: help)
    }

    // MARK: Interpolation

    mutating func interpolate(_ i: Int, _ instruction: Instruction) throws(TemplateError) {
        guard let found = resolve(instruction.a, at: i) else {
            if strict { throw undefined(i, instruction.a, tag: instruction.code == .raw ? "{{&" : "{{") }
            return
        }
        switch found.pointee {
        case .string:
            // Written from the string's own storage: one copy of the value (a retain and release for strings of
            // 16 bytes and more), where binding it here and passing it on made two.
            if found.pointee.withStringBytes({ bytes in write(bytes, instruction.code) }) == false,
               case .string(let text) = found.pointee {
                throw unsafeValue(text, i, instruction)
            }
        case .int(let number):
            writeInteger(number)
        case .double(let number):
            try write(TemplateValue.text(of: number), i, instruction)
        case .bool(let flag):
            append(flag ? TemplateValue.trueBytes : TemplateValue.falseBytes)
        case .null:
            if strict { throw nullValue(i, instruction) }
        case .list, .object:
            throw notText(i, instruction, found.pointee)
        }
    }

    // The errors are built out of line, so that the hot paths above stay small (fewer registers spilled).
    @inline(never)
    func nullValue(_ i: Int, _ instruction: Instruction) -> TemplateError {
        let name = set.names[Int(instruction.a)].text
        return set.error(
            .undefinedName, at: i, message: "'\(name)' is null (strict mode)",
            help: "give '\(name)' a value in the data, or wrap the line in {{#\(name)}}...{{/\(name)}}")
    }

    @inline(never)
    func notText(_ i: Int, _ instruction: Instruction, _ value: TemplateValue) -> TemplateError {
        let name = set.names[Int(instruction.a)].text
        return set.error(
            .notText, at: i, message: "'\(name)' is \(value.kindName), which has no text form",
            help: "iterate it with {{#\(name)}}...{{/\(name)}} or name one of its fields")
    }

    /// A number's text (made here, not taken from the data).
    @inline(__always)
    mutating func write(_ text: String, _ i: Int, _ instruction: Instruction) throws(TemplateError) {
        if TemplateValue.string(text).withStringBytes({ bytes in write(bytes, instruction.code) }) == false {
            throw unsafeValue(text, i, instruction)
        }
    }

    /// Writes a value's bytes with the set's escaping; false (and nothing that counts written) if rules
    /// escaping refuses them.
    @inline(__always)
    mutating func write(_ bytes: UnsafeBufferPointer<UInt8>, _ code: Instruction.Code) -> Bool {
        switch escaping {
        case .none:
            append(bytes)
        case .html:
            if code == .raw { append(bytes) } else { writeHTMLEscaped(bytes) }
        case .rules:
            // Copy and check in one pass; the bytes past `count` are only kept if all of them pass.
            let length = bytes.count
            if count &+ length > capacity {
                guard count &+ length <= limits.outputBytes else { outputOverflowed = true; return true }
                grow(to: count + length)
            }
            guard let source = bytes.baseAddress,
                  Self.copyIfRuleSafe(source, to: self.bytes + count, length, table: escapeTable)
            else { return length == 0 }
            count &+= length
        }
        return true
    }

    @inline(never)
    func unsafeValue(_ text: String, _ i: Int, _ instruction: Instruction) -> TemplateError {
        let name = set.names[Int(instruction.a)].text
        // Rules escaping refused the text, so it has an unsafe character.
        let (offset, character) = RuleSafety.firstUnsafeCharacter(in: text) ?? (0, "?")
        return set.error(
            .unsafeValue, at: i,
            message: "the value of '\(name)' contains \(character) at byte \(offset), which is not allowed in a rule file",
            help: "values in rule files may hold only ASCII letters, digits, space and \(RuleSafety.allowedPunctuation.dropFirst().map(String.init).joined(separator: " ")); fix the value in the data")
    }

    mutating func writeHTMLEscaped(_ bytes: UnsafeBufferPointer<UInt8>) {
        var plain = 0
        for k in 0..<bytes.count {
            let entry = escapeTable[Int(bytes[k])]
            if entry != 0 {
                append(UnsafeBufferPointer(rebasing: bytes[plain..<k]))
                append(Escapes.html[Int(entry)])
                plain = k + 1
            }
        }
        append(UnsafeBufferPointer(rebasing: bytes[plain..<bytes.count]))
    }

    mutating func writeInteger(_ number: Int) {
        var magnitude = number.magnitude
        // Ports, counts, prefix lengths: up to five digits straight into the output.
        if magnitude < 100_000 {
            let length = magnitude < 10 ? 1 : magnitude < 100 ? 2 : magnitude < 1_000 ? 3 : magnitude < 10_000 ? 4 : 5
            let total = length + (number < 0 ? 1 : 0)
            if count &+ total > capacity {
                guard count &+ total <= limits.outputBytes else { outputOverflowed = true; return }
                grow(to: count + total)
            }
            var k = count + total
            repeat {
                k -= 1
                bytes[k] = UInt8(ascii: "0") &+ UInt8(truncatingIfNeeded: magnitude % 10)
                magnitude /= 10
            } while magnitude != 0
            if number < 0 { bytes[count] = UInt8(ascii: "-") }
            count &+= total
            return
        }
        withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 20) { digits in
            var k = 20
            repeat {
                k -= 1
                digits[k] = UInt8(ascii: "0") &+ UInt8(magnitude % 10)
                magnitude /= 10
            } while magnitude != 0
            if number < 0 { append(UInt8(ascii: "-")) }
            append(UnsafeBufferPointer(rebasing: digits[k..<20]))
        }
    }

    /// Static text in a standalone partial: the indentation goes at its start (if it starts a line) and after
    /// each newline that has more text after it.
    mutating func writeIndented(_ instruction: Instruction) {
        let start = Int(instruction.a), end = Int(instruction.b)
        if instruction.flags & Instruction.startsLine != 0 { append(indent) }
        var lineStart = start
        for k in start..<end where pool[k] == UInt8(ascii: "\n") && k + 1 < end {
            append(UnsafeBufferPointer(rebasing: pool[lineStart...k]))
            append(indent)
            lineStart = k + 1
        }
        append(UnsafeBufferPointer(rebasing: pool[lineStart..<end]))
    }

    // MARK: Sections and partials

    mutating func section(_ i: Int, _ instruction: Instruction) throws(TemplateError) {
        guard let found = resolve(instruction.a, at: i) else {
            if strict { throw undefined(i, instruction.a, tag: "{{#") }
            return
        }
        let bodyEnd = Int(instruction.b)
        switch found.pointee {
        case .list(let items):
            guard !items.isEmpty else { return }
            try enter(i)
            try items.withUnsafeBufferPointer { (items) throws(TemplateError) in
                for item in 0..<items.count {
                    try countIteration(i)
                    push(items.baseAddress! + item)
                    try run(i + 1, bodyEnd)
                    pop()
                }
            }
            depth -= 1
        case .null, .bool(false):
            return
        case .string(let text) where text.isEmpty:
            return
        default:
            try enter(i)
            try countIteration(i)
            push(found)
            try run(i + 1, bodyEnd)
            pop()
            depth -= 1
        }
    }

    mutating func inverted(_ i: Int, _ instruction: Instruction) throws(TemplateError) {
        let found = resolve(instruction.a, at: i)
        if found == nil && strict { throw undefined(i, instruction.a, tag: "{{^") }
        if found?.pointee.isTruthy ?? false { return }
        try enter(i)
        try countIteration(i)
        try run(i + 1, Int(instruction.b))
        depth -= 1
    }

    /// `{{>*name}}`: the value of `name` must be a string naming a template of the set.
    mutating func dynamicPartial(_ i: Int, _ instruction: Instruction) throws(TemplateError) {
        guard let found = resolve(instruction.a, at: i) else {
            if strict { throw undefined(i, instruction.a, tag: "{{>*") }
            return
        }
        let name = set.names[Int(instruction.a)].text
        guard case .string(let partialName) = found.pointee else {
            if !strict { return }
            throw set.error(
                .notText, at: i, message: "'\(name)' is \(found.pointee.kindName), not the name of a partial",
                help: "give '\(name)' a template name as a string")
        }
        guard let target = set.templateIndex[partialName] else {
            if !strict { return }
            throw set.error(
                .unknownPartial, at: i, message: "unknown partial '\(partialName)' (the value of '\(name)')",
                help: "add \(partialName).mustache to the partials folder, or fix the value of '\(name)'")
        }
        try partial(i, instruction, target: target)
    }

    mutating func partial(_ i: Int, _ instruction: Instruction, target: Int) throws(TemplateError) {
        guard partialCalls.count < limits.partialDepth else {
            throw set.error(
                .limitExceeded, at: i,
                message: "partials nest deeper than \(limits.partialDepth) levels: \(partialChain(ending: target))",
                help: "a partial includes itself without end; make the recursion stop (a section over data that runs out)")
        }
        try enter(i)
        try countIteration(i)
        partialCalls.append(i)
        let range = set.templates[target].instructions
        if instruction.flags & Instruction.standalone != 0 {
            let saved = indent.count
            indent.append(contentsOf: UnsafeBufferPointer(rebasing: pool[Int(instruction.b)..<Int(instruction.c)]))
            try run(range.lowerBound, range.upperBound)
            indent.removeSubrange(saved...)
        } else {
            // An inline partial is not indented (its text is not at the start of a line of its own).
            let saved = indent
            indent = []
            try run(range.lowerBound, range.upperBound)
            indent = saved
        }
        partialCalls.removeLast()
        depth -= 1
    }

    func partialChain(ending target: Int) -> String {
        var names = partialCalls.map { set.templates[set.template(containing: $0)].name }
        names.append(set.templates[target].name)
        if names.count > 8 {
            names = Array(names.prefix(4)) + ["..."] + Array(names.suffix(3))
        }
        return names.joined(separator: " > ")
    }

    @inline(__always)
    mutating func enter(_ i: Int) throws(TemplateError) {
        depth += 1
        if depth > limits.renderDepth { throw depthLimitError(at: i) }
    }

    @inline(never)
    func depthLimitError(at i: Int) -> TemplateError {
        set.error(
            .limitExceeded, at: i, message: "sections and partials nest deeper than \(limits.renderDepth) levels",
            help: "flatten the template or the data")
    }

    @inline(never)
    func outputLimitError(at i: Int) -> TemplateError {
        set.error(.limitExceeded, at: i, message: "the output grew beyond \(limits.outputBytes) bytes",
                  help: "a value or a section makes more output than the limit allows; check the data and the template")
    }

    /// The error when the last write was refused; called once rendering is done (the last instruction may write).
    func checkOutputLimit(at i: Int) throws(TemplateError) {
        if outputOverflowed { throw outputLimitError(at: i) }
    }

    @inline(__always)
    mutating func countIteration(_ i: Int) throws(TemplateError) {
        iterations += 1
        if outputOverflowed { throw outputLimitError(at: i) }
        if iterations > limits.iterations || count > limits.outputBytes { throw iterationLimitError(at: i) }
    }

    @inline(never)
    func iterationLimitError(at i: Int) -> TemplateError {
        set.error(
            .limitExceeded, at: i,
            message: iterations > limits.iterations
                ? "rendering took more than \(limits.iterations) section iterations"
                : "the output grew beyond \(limits.outputBytes) bytes",
            help: "the template multiplies nested sections over the data too much; check the nesting")
    }
}

extension TemplateValue {
    static let trueBytes: [UInt8] = Array("true".utf8)
    static let falseBytes: [UInt8] = Array("false".utf8)

    /// A number's text: whole numbers (up to 2^53) without a fraction, like JSON writers; others shortest.
    static func text(of number: Double) -> String {
        if number == number.rounded(.towardZero) && Swift.abs(number) < 9_007_199_254_740_992 {
            return String(Int(number))
        }
        return String(number)
    }
}
