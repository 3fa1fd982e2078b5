/// Runs a compiled template over data, appending to one byte buffer. One renderer per render: it owns the
/// output and the context stack, and only reads the shared `CompiledSet`, so renders on many threads at once
/// are independent.
struct Renderer: ~Copyable {
    let set: CompiledSet
    let instructions: UnsafeMutableBufferPointer<Instruction>
    let pool: UnsafeMutableBufferPointer<UInt8>
    let escapeTable: UnsafeMutablePointer<UInt8>
    let escaping: TemplateOptions.Escaping
    let strict: Bool
    let limits: TemplateLimits

    var output: [UInt8]
    /// The context stack: the data, then each section's value; names resolve from the top down.
    var stack: [TemplateValue] = []
    /// The indentation of the standalone partials being rendered, written at each line start.
    var indent: [UInt8] = []
    /// The partial instructions being rendered, outermost first, for recursion errors.
    var partialCalls: [Int] = []
    var depth = 0
    var iterations = 0

    init(set: CompiledSet, output: consuming [UInt8]) {
        self.set = set
        instructions = set.instructions
        pool = set.pool
        escapeTable = set.escapeTable
        escaping = set.options.escaping
        strict = set.options.strict
        limits = set.options.limits
        self.output = output
        stack.reserveCapacity(16)
    }

    mutating func render(template index: Int, data: TemplateValue) throws(TemplateError) {
        stack.append(data)
        let range = set.templates[index].instructions
        try run(range.lowerBound, range.upperBound)
    }

    mutating func run(_ start: Int, _ end: Int) throws(TemplateError) {
        var i = start
        while i < end {
            let instruction = instructions[i]
            switch instruction.code {
            case .text:
                if indent.isEmpty || instruction.flags == 0 {
                    output.append(
                        contentsOf: UnsafeBufferPointer(rebasing: pool[Int(instruction.a)..<Int(instruction.b)]))
                } else {
                    writeIndented(instruction)
                }
                i += 1
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
                try partial(i, instruction)
                i += 1
            case .indent:
                if !indent.isEmpty { output.append(contentsOf: indent) }
                i += 1
            }
        }
    }

    // MARK: Names

    /// The value a name resolves to, or nil when it resolves to nothing. The first part of a dotted name is
    /// looked up through the context stack from the top; the other parts only inside what the first found.
    @inline(__always)
    func resolve(_ nameID: Int32) -> TemplateValue? {
        let name = set.names[Int(nameID)]
        guard !name.parts.isEmpty else { return stack.last }
        var found: TemplateValue? = nil
        var level = stack.count - 1
        while level >= 0 {
            if case .object(let object) = stack[level], let value = object.lookup(name.parts[0], hash: name.hashes[0]) {
                found = value
                break
            }
            level -= 1
        }
        guard var value = found else { return nil }
        var part = 1
        while part < name.parts.count {
            guard case .object(let object) = value,
                let next = object.lookup(name.parts[part], hash: name.hashes[part])
            else { return nil }
            value = next
            part += 1
        }
        return value
    }

    /// The strict-mode error for a name that resolves to nothing, saying which part is missing.
    func undefined(_ i: Int, _ nameID: Int32, tag: String) -> TemplateError {
        let name = set.names[Int(nameID)]
        var missing = name.text
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
                        missing = "\(name.text)' ('\(prefix)' is \(value.kindName) without '\(name.parts[part])')"
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
            .undefinedName, at: i, message: "'\(missing)' is not defined (strict mode, in \(tag)\(name.text)}})",
            help: help)
    }

    // MARK: Interpolation

    mutating func interpolate(_ i: Int, _ instruction: Instruction) throws(TemplateError) {
        guard let value = resolve(instruction.a) else {
            if strict { throw undefined(i, instruction.a, tag: instruction.code == .raw ? "{{&" : "{{") }
            return
        }
        switch value {
        case .string(let text):
            try write(text, i, instruction)
        case .int(let number):
            writeInteger(number)
        case .double(let number):
            try write(TemplateValue.text(of: number), i, instruction)
        case .bool(let flag):
            output.append(contentsOf: flag ? TemplateValue.trueBytes : TemplateValue.falseBytes)
        case .null:
            if strict {
                let name = set.names[Int(instruction.a)].text
                throw set.error(
                    .undefinedName, at: i, message: "'\(name)' is null (strict mode)",
                    help: "give '\(name)' a value in the data, or wrap the line in {{#\(name)}}...{{/\(name)}}")
            }
        case .list, .object:
            let name = set.names[Int(instruction.a)].text
            throw set.error(
                .notText, at: i, message: "'\(name)' is \(value.kindName), which has no text form",
                help: "iterate it with {{#\(name)}}...{{/\(name)}} or name one of its fields")
        }
    }

    @inline(__always)
    mutating func write(_ text: String, _ i: Int, _ instruction: Instruction) throws(TemplateError) {
        var text = text
        let unsafeAt: Int = text.withUTF8 { bytes in
            switch escaping {
            case .none:
                output.append(contentsOf: bytes)
            case .html:
                if instruction.code == .raw {
                    output.append(contentsOf: bytes)
                } else {
                    writeHTMLEscaped(bytes)
                }
            case .rules:
                let table = escapeTable
                for k in 0..<bytes.count where table[Int(bytes[k])] == 0 { return k }
                output.append(contentsOf: bytes)
            }
            return -1
        }
        if unsafeAt >= 0 {
            let name = set.names[Int(instruction.a)].text
            let character = RuleSafety.describeCharacter(atByte: unsafeAt, in: text)
            throw set.error(
                .unsafeValue, at: i,
                message: "the value of '\(name)' contains \(character) at byte \(unsafeAt), which is not allowed in a rule file",
                help: "rule files accept only ASCII letters, digits, space and \(RuleSafety.allowedPunctuation.dropFirst()) in values; fix the value in the data")
        }
    }

    mutating func writeHTMLEscaped(_ bytes: UnsafeBufferPointer<UInt8>) {
        var plain = 0
        for k in 0..<bytes.count {
            let entry = escapeTable[Int(bytes[k])]
            if entry != 0 {
                output.append(contentsOf: UnsafeBufferPointer(rebasing: bytes[plain..<k]))
                output.append(contentsOf: Escapes.html[Int(entry)])
                plain = k + 1
            }
        }
        output.append(contentsOf: UnsafeBufferPointer(rebasing: bytes[plain..<bytes.count]))
    }

    mutating func writeInteger(_ number: Int) {
        var magnitude = number.magnitude
        withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 20) { digits in
            var k = 20
            repeat {
                k -= 1
                digits[k] = UInt8(ascii: "0") &+ UInt8(magnitude % 10)
                magnitude /= 10
            } while magnitude != 0
            if number < 0 { output.append(UInt8(ascii: "-")) }
            output.append(contentsOf: UnsafeBufferPointer(rebasing: digits[k..<20]))
        }
    }

    /// Static text in a standalone partial: the indentation goes at its start (if it starts a line) and after
    /// each newline that has more text after it.
    mutating func writeIndented(_ instruction: Instruction) {
        let start = Int(instruction.a), end = Int(instruction.b)
        if instruction.flags & Instruction.startsLine != 0 { output.append(contentsOf: indent) }
        var lineStart = start
        for k in start..<end where pool[k] == UInt8(ascii: "\n") && k + 1 < end {
            output.append(contentsOf: UnsafeBufferPointer(rebasing: pool[lineStart...k]))
            output.append(contentsOf: indent)
            lineStart = k + 1
        }
        output.append(contentsOf: UnsafeBufferPointer(rebasing: pool[lineStart..<end]))
    }

    // MARK: Sections and partials

    mutating func section(_ i: Int, _ instruction: Instruction) throws(TemplateError) {
        guard let value = resolve(instruction.a) else {
            if strict { throw undefined(i, instruction.a, tag: "{{#") }
            return
        }
        let bodyEnd = Int(instruction.b)
        switch value {
        case .list(let items):
            guard !items.isEmpty else { return }
            try enter(i)
            for item in items {
                try countIteration(i)
                stack.append(item)
                try run(i + 1, bodyEnd)
                stack.removeLast()
            }
            depth -= 1
        case .null, .bool(false):
            return
        case .string(let text) where text.isEmpty:
            return
        default:
            try enter(i)
            try countIteration(i)
            stack.append(value)
            try run(i + 1, bodyEnd)
            stack.removeLast()
            depth -= 1
        }
    }

    mutating func inverted(_ i: Int, _ instruction: Instruction) throws(TemplateError) {
        let value = resolve(instruction.a)
        if value == nil && strict { throw undefined(i, instruction.a, tag: "{{^") }
        if value?.isTruthy ?? false { return }
        try enter(i)
        try countIteration(i)
        try run(i + 1, Int(instruction.b))
        depth -= 1
    }

    mutating func partial(_ i: Int, _ instruction: Instruction) throws(TemplateError) {
        let target = Int(instruction.a)
        guard target >= 0 else { return }
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
        if depth > limits.renderDepth {
            throw set.error(
                .limitExceeded, at: i, message: "sections and partials nest deeper than \(limits.renderDepth) levels",
                help: "flatten the template or the data")
        }
    }

    @inline(__always)
    mutating func countIteration(_ i: Int) throws(TemplateError) {
        iterations += 1
        if iterations > limits.iterations || output.count > limits.outputBytes {
            throw set.error(
                .limitExceeded, at: i,
                message: iterations > limits.iterations
                    ? "rendering took more than \(limits.iterations) section iterations"
                    : "the output grew beyond \(limits.outputBytes) bytes",
                help: "the template multiplies nested sections over the data too much; check the nesting")
        }
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
