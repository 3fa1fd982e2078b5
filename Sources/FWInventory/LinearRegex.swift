/// Python `re.match` for `--limit ~REGEX`, run without backtracking: the pattern is compiled to an NFA and every
/// state is advanced in step over the name (Pike's method), so matching costs at most the pattern's size times
/// the name's length, whatever the pattern. Swift's `Regex` backtracks: `~(a|aa)*$` against a 41-character name
/// ran for minutes, and cannot be stopped.
///
/// The syntax is Python's, without the parts that need backtracking: literals and escapes, `.`, classes
/// (`[a-z]`, `[^...]`, `\d \w \s \D \W \S`), groups (`(...)`, `(?:...)`, `(?P<name>...)`), `|`, the quantifiers
/// `* + ? {m} {m,} {m,n}` (lazy or possessive forms too: only whether it matches counts), and the anchors `^ $ \A
/// \Z`. Backreferences, lookarounds, `\b` and inline flags are refused with a clear error.
struct LinearRegex: Sendable {
    struct SyntaxError: Error, CustomStringConvertible {
        var description: String
    }

    /// Instructions of the NFA program.
    enum Instruction: Sendable {
        case scalar(CharacterClass)
        case split(Int, Int)
        case jump(Int)
        case atStart
        /// `$`: the end, or before a final line feed.
        case atEnd
        /// `\Z`: the end only.
        case atAbsoluteEnd
        case match
    }

    struct CharacterClass: Sendable {
        enum Item: Sendable {
            case range(UInt32, UInt32)
            case digit(Bool), word(Bool), space(Bool)
        }
        var items: [Item]
        var negated: Bool
        static let any = CharacterClass(items: [.range(0x0A, 0x0A)], negated: true)  // `.`: anything but \n

        func contains(_ scalar: Unicode.Scalar) -> Bool {
            let found = items.contains { item in
                switch item {
                case .range(let low, let high): return low <= scalar.value && scalar.value <= high
                case .digit(let yes): return (scalar.properties.numericType == .decimal) == yes
                case .word(let yes):
                    return (scalar.properties.isAlphabetic || scalar.properties.numericType != nil || scalar == "_") == yes
                case .space(let yes): return scalar.properties.isWhitespace == yes
                }
            }
            return found != negated
        }
    }

    /// Programs longer than this are refused: `(a{1000}){1000}` would otherwise expand to a million states.
    static let maxInstructions = 20_000

    let program: [Instruction]

    init(_ pattern: String) throws {
        var parser = Parser(scalars: Array(pattern.unicodeScalars))
        let tree = try parser.parseAlternation()
        if parser.position < parser.scalars.count {
            throw SyntaxError(description: "unbalanced parenthesis at position \(parser.position)")
        }
        var compiler = Compiler()
        try compiler.emit(tree)
        compiler.program.append(.match)
        program = compiler.program
    }

    /// `re.match`: the pattern matches a prefix of `text`.
    func matchesPrefix(of text: String) -> Bool {
        let scalars = Array(text.unicodeScalars)
        var current: [Int] = []
        var next: [Int] = []
        var seen = [Int](repeating: -1, count: program.count)
        var generation = 0
        // Adds `pc` and everything reachable from it without reading a character; true when that reaches `match`.
        func add(_ pc: Int, at position: Int, into list: inout [Int]) -> Bool {
            var stack = [pc]
            var matched = false
            while let pc = stack.popLast() {
                guard seen[pc] != generation else { continue }
                seen[pc] = generation
                switch program[pc] {
                case .jump(let target): stack.append(target)
                case .split(let first, let second): stack.append(second); stack.append(first)
                case .atStart: if position == 0 { stack.append(pc + 1) }
                case .atEnd:
                    if position == scalars.count || (position == scalars.count - 1 && scalars[position] == "\n") {
                        stack.append(pc + 1)
                    }
                case .atAbsoluteEnd: if position == scalars.count { stack.append(pc + 1) }
                case .match: matched = true
                case .scalar: list.append(pc)
                }
            }
            return matched
        }
        if add(0, at: 0, into: &current) { return true }
        for position in scalars.indices {
            generation += 1
            next.removeAll(keepingCapacity: true)
            for pc in current {
                guard case .scalar(let set) = program[pc], set.contains(scalars[position]) else { continue }
                if add(pc + 1, at: position + 1, into: &next) { return true }
            }
            if next.isEmpty { return false }
            swap(&current, &next)
        }
        return false
    }

    // MARK: Parsing

    indirect enum Node {
        case empty
        case scalar(CharacterClass)
        case sequence([Node])
        case alternation([Node])
        case repetition(Node, min: Int, max: Int?)
        case start, end, absoluteEnd
    }

    struct Parser {
        let scalars: [Unicode.Scalar]
        var position = 0
        var depth = 0

        func fail(_ message: String) -> SyntaxError { SyntaxError(description: "\(message) at position \(position)") }
        var peek: Unicode.Scalar? { position < scalars.count ? scalars[position] : nil }

        mutating func parseAlternation() throws -> Node {
            depth += 1
            defer { depth -= 1 }
            if depth > 200 { throw fail("groups nested too deeply") }
            var branches = [try parseSequence()]
            while peek == "|" {
                position += 1
                branches.append(try parseSequence())
            }
            return branches.count == 1 ? branches[0] : .alternation(branches)
        }

        mutating func parseSequence() throws -> Node {
            var items: [Node] = []
            while let scalar = peek, scalar != "|", scalar != ")" {
                var atom = try parseAtom()
                while let quantifier = try parseQuantifier() {
                    if case .start = atom { throw fail("nothing to repeat") }
                    if case .end = atom { throw fail("nothing to repeat") }
                    if case .absoluteEnd = atom { throw fail("nothing to repeat") }
                    atom = .repetition(atom, min: quantifier.min, max: quantifier.max)
                }
                items.append(atom)
            }
            return items.count == 1 ? items[0] : .sequence(items)
        }

        mutating func parseQuantifier() throws -> (min: Int, max: Int?)? {
            guard let scalar = peek else { return nil }
            var result: (min: Int, max: Int?)
            switch scalar {
            case "*": result = (0, nil); position += 1
            case "+": result = (1, nil); position += 1
            case "?": result = (0, 1); position += 1
            case "{":
                // `{m}`, `{m,}`, `{,n}`, `{m,n}`; anything else is a literal `{`, as in Python.
                var end = position + 1
                while end < scalars.count, scalars[end] != "}" { end += 1 }
                guard end < scalars.count else { return nil }
                let body = String(String.UnicodeScalarView(scalars[(position + 1)..<end]))
                let parts = body.split(separator: ",", omittingEmptySubsequences: false).map(String.init)
                guard (1...2).contains(parts.count), parts.allSatisfy({ $0.allSatisfy(\.isASCII) && $0.allSatisfy(\.isNumber) }),
                      !(parts.count == 1 && parts[0].isEmpty) else { return nil }
                guard let low = parts[0].isEmpty ? 0 : Int(parts[0]), low <= 1000 else { throw fail("repeat count too large") }
                var high: Int? = low
                if parts.count == 2 {
                    high = parts[1].isEmpty ? nil : Int(parts[1])
                    if parts[1].isEmpty == false && high == nil { throw fail("repeat count too large") }
                }
                if let h = high, h < low || h > 1000 { throw fail(h < low ? "min repeat greater than max repeat" : "repeat count too large") }
                result = (low, high)
                position = end + 1
            default: return nil
            }
            if peek == "?" || peek == "+" { position += 1 }  // lazy or possessive: the same set of matches
            if let next = peek, "*+?".unicodeScalars.contains(next) { throw fail("multiple repeat") }
            return result
        }

        mutating func parseAtom() throws -> Node {
            let scalar = scalars[position]
            position += 1
            switch scalar {
            case ".": return .scalar(.any)
            case "^": return .start
            case "$": return .end
            case "*", "+", "?": throw fail("nothing to repeat")
            case "[": return .scalar(try parseClass())
            case "\\": return try parseEscape(inClass: false)
            case "(":
                if peek == "?" {
                    if position + 1 < scalars.count, scalars[position + 1] == ":" {
                        position += 2
                    } else if position + 2 < scalars.count, scalars[position + 1] == "P", scalars[position + 2] == "<" {
                        guard let close = scalars[position...].firstIndex(of: ">") else { throw fail("missing >, unterminated name") }
                        position = close + 1
                    } else {
                        throw fail("lookarounds, inline flags and other (?...) groups are not supported")
                    }
                }
                let inner = try parseAlternation()
                guard peek == ")" else { throw fail("missing ), unterminated subpattern") }
                position += 1
                return inner
            case ")": throw fail("unbalanced parenthesis")
            default: return .scalar(CharacterClass(items: [.range(scalar.value, scalar.value)], negated: false))
            }
        }

        mutating func parseEscape(inClass: Bool) throws -> Node {
            guard let scalar = peek else { throw fail("bad escape (end of pattern)") }
            position += 1
            func one(_ value: UInt32) -> Node { .scalar(CharacterClass(items: [.range(value, value)], negated: false)) }
            switch scalar {
            case "d": return .scalar(CharacterClass(items: [.digit(true)], negated: false))
            case "D": return .scalar(CharacterClass(items: [.digit(false)], negated: false))
            case "w": return .scalar(CharacterClass(items: [.word(true)], negated: false))
            case "W": return .scalar(CharacterClass(items: [.word(false)], negated: false))
            case "s": return .scalar(CharacterClass(items: [.space(true)], negated: false))
            case "S": return .scalar(CharacterClass(items: [.space(false)], negated: false))
            case "n": return one(0x0A)
            case "t": return one(0x09)
            case "r": return one(0x0D)
            case "f": return one(0x0C)
            case "v": return one(0x0B)
            case "A" where !inClass: return .start
            case "Z" where !inClass: return .absoluteEnd
            case "b", "B", "1"..."9":
                throw fail("\\\(scalar) (word boundaries and backreferences) is not supported")
            default:
                if scalar.properties.isAlphabetic || scalar.properties.numericType != nil {
                    throw fail("bad escape \\\(scalar)")
                }
                return one(scalar.value)
            }
        }

        mutating func parseClass() throws -> CharacterClass {
            var negated = false
            if peek == "^" { negated = true; position += 1 }
            var items: [CharacterClass.Item] = []
            var first = true
            while true {
                guard let scalar = peek else { throw fail("unterminated character set") }
                if scalar == "]" && !first { position += 1; break }
                first = false
                position += 1
                var low: UInt32
                if scalar == "\\" {
                    guard case .scalar(let set) = try parseEscape(inClass: true) else { throw fail("bad escape in a set") }
                    guard !set.negated, set.items.count == 1, case .range(let l, _) = set.items[0] else {
                        items += set.items
                        continue
                    }
                    low = l
                } else {
                    low = scalar.value
                }
                if peek == "-", position + 1 < scalars.count, scalars[position + 1] != "]" {
                    position += 1
                    var high = scalars[position].value
                    position += 1
                    if scalars[position - 1] == "\\" {
                        guard case .scalar(let set) = try parseEscape(inClass: true), set.items.count == 1,
                              case .range(let h, _) = set.items[0] else { throw fail("bad character range") }
                        high = h
                    }
                    guard low <= high else { throw fail("bad character range") }
                    items.append(.range(low, high))
                } else {
                    items.append(.range(low, low))
                }
            }
            return CharacterClass(items: items, negated: negated)
        }
    }

    struct Compiler {
        var program: [Instruction] = []

        mutating func emit(_ node: Node) throws {
            guard program.count < LinearRegex.maxInstructions else {
                throw SyntaxError(description: "the pattern expands to more than \(LinearRegex.maxInstructions) states")
            }
            switch node {
            case .empty: break
            case .scalar(let set): program.append(.scalar(set))
            case .start: program.append(.atStart)
            case .end: program.append(.atEnd)
            case .absoluteEnd: program.append(.atAbsoluteEnd)
            case .sequence(let items): for item in items { try emit(item) }
            case .alternation(let branches):
                var jumps: [Int] = []
                for (index, branch) in branches.enumerated() {
                    if index < branches.count - 1 {
                        let split = program.count
                        program.append(.split(split + 1, -1))
                        try emit(branch)
                        jumps.append(program.count)
                        program.append(.jump(-1))
                        program[split] = .split(split + 1, program.count)
                    } else {
                        try emit(branch)
                    }
                }
                for jump in jumps { program[jump] = .jump(program.count) }
            case .repetition(let inner, let min, let max):
                for _ in 0..<min { try emit(inner) }
                if let max {
                    // Each optional copy may be skipped: split past the rest.
                    var splits: [Int] = []
                    for _ in min..<max {
                        splits.append(program.count)
                        program.append(.split(program.count + 1, -1))
                        try emit(inner)
                    }
                    for split in splits { program[split] = .split(split + 1, program.count) }
                } else {
                    let loop = program.count
                    program.append(.split(loop + 1, -1))
                    try emit(inner)
                    program.append(.jump(loop))
                    program[loop] = .split(loop + 1, program.count)
                }
            }
        }
    }
}
