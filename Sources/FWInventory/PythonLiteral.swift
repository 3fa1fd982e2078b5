/// Python's `ast.literal_eval`, as Ansible's INI parser applies it to every value: `8080` becomes an integer,
/// `True` a boolean, `[1, 2]` a list, `'x y'` a string; anything that is not a Python literal (`true`, `yes`,
/// `10.0.0.1`, `a b`) stays the string it was. Only the literal subset of Python is parsed here; any other
/// expression, valid Python or not, is "not a literal", which is all Ansible distinguishes.
/// This file is the parser; `PythonLiteral+Ansible.swift` turns its values into what Ansible stores.
enum PythonLiteral {
    indirect enum Value {
        case noneValue
        case bool(Bool)
        case int(Int)
        /// An integer beyond 64 bits, kept as a Double (Python's are unbounded).
        case bigInt(Double)
        case float(Double)
        case complex(real: Double, imag: Double)
        case string(String)
        case bytes([UInt8])
        case ellipsis
        case list([Value])
        case tuple([Value])
        case set([Value])
        case dict([(Value, Value)])
    }

    /// The literal's value, or nil when `text` is not a Python literal.
    static func evaluate(_ text: Substring, shortcuts: Bool = true) throws -> Value? {
        guard let first = text.unicodeScalars.first else { return nil }
        // Fast paths: most INI values are plain words, addresses or numbers (the fuzzer checks them against the
        // parser).
        if shortcuts {
            switch asciiShortcut(text.utf8) {
            case .literal(let value): return value
            case .notLiteral: return nil
            case .undecided: break
            }
        }
        if isIdentifierStart(first), text.unicodeScalars.allSatisfy(isIdentifierContinue) {
            // A bare word is a name, and only these three names are literals.
            switch text {
            case "True": return .bool(true)
            case "False": return .bool(false)
            case "None": return .noneValue
            default: return nil
            }
        }
        var parser = Parser(Array(text.unicodeScalars))
        return try parser.parseWhole()
    }

    private struct NotLiteral: Error {}

    /// The result for common ASCII values without running the parser: a decimal integer, a plain word, or a
    /// dotted address. Nil when the parser must decide.
    private enum Shortcut {
        case literal(Value)
        case notLiteral
        case undecided
    }

    private static func asciiShortcut(_ utf8: Substring.UTF8View) -> Shortcut {
        var digits = 0, dots = 0, letters = 0, others = 0
        for b in utf8 {
            switch b {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): digits += 1
            case UInt8(ascii: "."): dots += 1
            case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "_"): letters += 1
            default: others += 1
            }
        }
        if others > 0 { return .undecided }
        let count = utf8.count
        if digits == count {
            // Decimal integer; leading zeros only for zero itself ("0123" is a syntax error: text).
            if count > 1 && utf8.first == UInt8(ascii: "0") && utf8.contains(where: { $0 != UInt8(ascii: "0") }) { return .notLiteral }
            if let v = Int(Substring(utf8)) { return .literal(.int(v)) }
            return .undecided
        }
        if dots >= 2 && letters == 0 { return .notLiteral }  // 10.0.0.1: not a number (and "..." is text anyway)
        if letters > 0 && dots == 0 && !(utf8.first.map { $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") } ?? false) {
            // A name: only True, False and None are literals.
            switch Substring(utf8) {
            case "True": return .literal(.bool(true))
            case "False": return .literal(.bool(false))
            case "None": return .literal(.noneValue)
            default: return .notLiteral
            }
        }
        return .undecided
    }

    private struct Parser {
        let s: [Unicode.Scalar]
        var i = 0
        var depth = 0
        /// Python's tokenizer refuses more than 200 nested brackets ("too many nested parentheses").
        static let maxDepth = 200

        init(_ s: [Unicode.Scalar]) { self.s = s }

        var atEnd: Bool { i >= s.count }
        var current: Unicode.Scalar? { i < s.count ? s[i] : nil }
        func peek(_ offset: Int) -> Unicode.Scalar? { i + offset < s.count ? s[i + offset] : nil }

        mutating func parseWhole() throws -> Value? {
            // literal_eval strips leading spaces and tabs; the tokenizer also skips form feeds.
            do {
                skipSpace(inBrackets: false)
                let value = try parseExpression()
                skipSpace(inBrackets: false)
                if !atEnd { return nil }
                return value.value
            } catch is NotLiteral {
                return nil
            }
        }

        /// Whitespace and comments; newlines only count as whitespace inside brackets.
        mutating func skipSpace(inBrackets: Bool) {
            while let c = current {
                switch c {
                case " ", "\t", "\u{0C}":
                    i += 1
                case "\n", "\r":
                    if !inBrackets && !isOnlyTrailing() { return }
                    i += 1
                case "#":
                    while let d = current, d != "\n", d != "\r" { i += 1 }
                case "\\" where peek(1) == "\n":
                    i += 2
                default:
                    return
                }
            }
        }

        /// True when only newlines and spaces remain (eval mode accepts trailing newlines).
        func isOnlyTrailing() -> Bool {
            var j = i
            while j < s.count {
                switch s[j] {
                case " ", "\t", "\n", "\r", "\u{0C}": j += 1
                default: return false
                }
            }
            return true
        }

        var inBrackets: Bool { depth > 0 }

        /// A parsed node: its value, and whether it is a bare number constant (which a sign may precede).
        struct Node {
            var value: Value
            var isNumberConstant: Bool
        }

        mutating func parseExpression() throws -> Node {
            let left = try parseUnary()
            skipSpace(inBrackets: inBrackets)
            guard let op = current, op == "+" || op == "-" else { return left }
            i += 1
            skipSpace(inBrackets: inBrackets)
            let right = try parseAtom()
            skipSpace(inBrackets: inBrackets)
            if let next = current, next == "+" || next == "-" { throw NotLiteral() }
            // literal_eval allows only REAL +/- COMPLEX here (`1+2j`), with a plain constant on the right.
            guard right.isNumberConstant, case .complex(let re2, let im2) = right.value else { throw NotLiteral() }
            let leftReal: Double
            switch left.value {
            case .int(let v) where left.isNumberConstant: leftReal = Double(v)
            case .bigInt(let v) where left.isNumberConstant: leftReal = v
            case .float(let v) where left.isNumberConstant: leftReal = v
            default: throw NotLiteral()
            }
            if op == "+" {
                return Node(value: .complex(real: leftReal + re2, imag: im2), isNumberConstant: false)
            }
            return Node(value: .complex(real: leftReal - re2, imag: -im2), isNumberConstant: false)
        }

        mutating func parseUnary() throws -> Node {
            guard let c = current, c == "+" || c == "-" else { return try parseAtom() }
            i += 1
            skipSpace(inBrackets: inBrackets)
            let operand = try parseAtom()
            guard operand.isNumberConstant else { throw NotLiteral() }
            if c == "+" { return Node(value: operand.value, isNumberConstant: true) }
            let negated: Value
            switch operand.value {
            case .int(let v): negated = v == Int.min ? .bigInt(-Double(v)) : .int(-v)
            case .bigInt(let v): negated = .bigInt(-v)
            case .float(let v): negated = .float(-v)
            case .complex(let re, let im): negated = .complex(real: -re, imag: -im)
            default: throw NotLiteral()
            }
            // A signed number is still "a number" for `-1+2j`.
            return Node(value: negated, isNumberConstant: true)
        }

        mutating func parseAtom() throws -> Node {
            guard let c = current else { throw NotLiteral() }
            switch c {
            case "(":
                return try parseParenthesized()
            case "[":
                try open()
                let items = try parseItems(closing: "]")
                return Node(value: .list(items), isNumberConstant: false)
            case "{":
                return try parseBraces()
            case "'", "\"":
                return Node(value: try parseStrings(), isNumberConstant: false)
            case ".":
                if peek(1) == ".", peek(2) == "." {
                    i += 3
                    return Node(value: .ellipsis, isNumberConstant: false)
                }
                if let d = peek(1), isDigit(d) { return Node(value: try parseNumber(), isNumberConstant: true) }
                throw NotLiteral()
            default:
                if isDigit(c) { return Node(value: try parseNumber(), isNumberConstant: true) }
                if isIdentifierStart(c) { return try parseName() }
                throw NotLiteral()
            }
        }

        mutating func open() throws {
            depth += 1
            if depth > Self.maxDepth { throw NotLiteral() }
            i += 1
            skipSpace(inBrackets: true)
        }

        mutating func close() {
            depth -= 1
            i += 1
        }

        mutating func parseParenthesized() throws -> Node {
            try open()
            if current == ")" {
                close()
                return Node(value: .tuple([]), isNumberConstant: false)
            }
            let first = try parseExpression()
            skipSpace(inBrackets: true)
            if current == ")" {
                close()
                return first  // parentheses add no node: `-(1)` is still a signed constant
            }
            guard current == "," else { throw NotLiteral() }
            i += 1
            skipSpace(inBrackets: true)
            var items = [first.value]
            items += try parseItems(closing: ")")
            return Node(value: .tuple(items), isNumberConstant: false)
        }

        /// Comma-separated expressions up to `closing` (which it consumes); a trailing comma is allowed.
        mutating func parseItems(closing: Unicode.Scalar) throws -> [Value] {
            var items: [Value] = []
            while true {
                skipSpace(inBrackets: true)
                if current == closing { close(); return items }
                items.append(try parseExpression().value)
                skipSpace(inBrackets: true)
                if current == closing { close(); return items }
                guard current == "," else { throw NotLiteral() }
                i += 1
            }
        }

        mutating func parseBraces() throws -> Node {
            try open()
            if current == "}" {
                close()
                return Node(value: .dict([]), isNumberConstant: false)
            }
            let first = try parseExpression().value
            skipSpace(inBrackets: true)
            if current == ":" {
                i += 1
                skipSpace(inBrackets: true)
                var pairs = [(first, try parseExpression().value)]
                while true {
                    skipSpace(inBrackets: true)
                    if current == "}" { close(); break }
                    guard current == "," else { throw NotLiteral() }
                    i += 1
                    skipSpace(inBrackets: true)
                    if current == "}" { close(); break }
                    let key = try parseExpression().value
                    skipSpace(inBrackets: true)
                    guard current == ":" else { throw NotLiteral() }
                    i += 1
                    skipSpace(inBrackets: true)
                    pairs.append((key, try parseExpression().value))
                }
                return Node(value: .dict(pairs), isNumberConstant: false)
            }
            var items = [first]
            if current == "," {
                i += 1
                items += try parseItems(closing: "}")
            } else if current == "}" {
                close()
            } else {
                throw NotLiteral()
            }
            return Node(value: .set(items), isNumberConstant: false)
        }

        mutating func parseName() throws -> Node {
            let start = i
            while let c = current, isIdentifierContinue(c) { i += 1 }
            let name = String(String.UnicodeScalarView(s[start..<i]))
            if let q = current, q == "'" || q == "\"" {
                // A string prefix: r, u, b, f and their combinations.
                switch name.lowercased() {
                case "r", "u", "b", "br", "rb":
                    i = start
                    return Node(value: try parseStrings(), isNumberConstant: false)
                default:
                    throw NotLiteral()  // f-strings are not literals; other prefixes are syntax errors
                }
            }
            switch name {
            case "True": return Node(value: .bool(true), isNumberConstant: false)
            case "False": return Node(value: .bool(false), isNumberConstant: false)
            case "None": return Node(value: .noneValue, isNumberConstant: false)
            case "set":
                // `set()` is the one call literal_eval accepts.
                skipSpace(inBrackets: inBrackets)
                guard current == "(" else { throw NotLiteral() }
                try open()
                guard current == ")" else { throw NotLiteral() }
                close()
                return Node(value: .set([]), isNumberConstant: false)
            default:
                throw NotLiteral()
            }
        }

        // MARK: Strings

        /// One or more adjacent string literals, concatenated (`'a' "b"` is `'ab'`); str and bytes do not mix.
        mutating func parseStrings() throws -> Value {
            var text = ""
            var bytes: [UInt8] = []
            var isBytes: Bool?
            while true {
                let (piece, pieceIsBytes) = try parseOneString()
                if let isBytes, isBytes != pieceIsBytes { throw NotLiteral() }
                isBytes = pieceIsBytes
                if pieceIsBytes { bytes += piece.map { UInt8(truncatingIfNeeded: $0.value) } } else {
                    text.unicodeScalars.append(contentsOf: piece)
                }
                let save = i
                skipSpace(inBrackets: inBrackets)
                guard let c = current else { break }
                if c == "'" || c == "\"" { continue }
                if isIdentifierStart(c) {
                    var j = i
                    while j < s.count, isIdentifierContinue(s[j]) { j += 1 }
                    if j < s.count, s[j] == "'" || s[j] == "\"" { continue }
                }
                i = save
                break
            }
            return isBytes == true ? .bytes(bytes) : .string(text)
        }

        /// One literal with its prefix; returns its characters (byte values for bytes literals).
        mutating func parseOneString() throws -> ([Unicode.Scalar], Bool) {
            var raw = false, isBytes = false
            while let c = current, c != "'" && c != "\"" {
                switch c {
                case "r", "R": raw = true
                case "b", "B": isBytes = true
                case "u", "U": break
                default: throw NotLiteral()
                }
                i += 1
            }
            guard let quote = current else { throw NotLiteral() }
            let triple = peek(1) == quote && peek(2) == quote
            i += triple ? 3 : 1
            var out: [Unicode.Scalar] = []
            while true {
                guard let c = current else { throw NotLiteral() }  // unterminated
                if c == quote {
                    if !triple { i += 1; break }
                    if peek(1) == quote && peek(2) == quote { i += 3; break }
                    out.append(c); i += 1; continue
                }
                if (c == "\n" || c == "\r") && !triple { throw NotLiteral() }
                if isBytes && c.value > 0x7F { throw NotLiteral() }
                if c != "\\" { out.append(c); i += 1; continue }
                guard let e = peek(1) else { throw NotLiteral() }
                if raw {
                    // Raw strings keep the backslash; it still stops the next quote from ending the string.
                    out.append(c); out.append(e); i += 2; continue
                }
                i += 2
                switch e {
                case "\n": break
                case "\\": out.append("\\")
                case "'": out.append("'")
                case "\"": out.append("\"")
                case "a": out.append("\u{07}")
                case "b": out.append("\u{08}")
                case "f": out.append("\u{0C}")
                case "n": out.append("\n")
                case "r": out.append("\r")
                case "t": out.append("\t")
                case "v": out.append("\u{0B}")
                case "0"..."7":
                    var value = e.value - 48
                    var n = 1
                    while n < 3, let d = current, ("0"..."7").contains(d) {
                        value = value * 8 + (d.value - 48); i += 1; n += 1
                    }
                    if isBytes && value > 0xFF { throw NotLiteral() }
                    out.append(Unicode.Scalar(value) ?? "\u{FFFD}")
                case "x":
                    out.append(try hexEscape(digits: 2))
                case "u" where !isBytes:
                    out.append(try hexEscape(digits: 4))
                case "U" where !isBytes:
                    out.append(try hexEscape(digits: 8))
                case "N" where !isBytes:
                    throw NotLiteral()  // named escapes need Unicode's name table; treated as text
                default:
                    out.append("\\"); out.append(e)
                }
            }
            return (out, isBytes)
        }

        mutating func hexEscape(digits: Int) throws -> Unicode.Scalar {
            var value: UInt32 = 0
            for _ in 0..<digits {
                guard let c = current, let d = hexValue(c) else { throw NotLiteral() }
                value = value * 16 + d
                i += 1
            }
            if value > 0x10FFFF { throw NotLiteral() }
            // Lone surrogates exist in Python strings but not in Swift's; they become U+FFFD.
            return Unicode.Scalar(value) ?? "\u{FFFD}"
        }

        // MARK: Numbers

        mutating func parseNumber() throws -> Value {
            if current == "0", let p = peek(1), "xXoObB".unicodeScalars.contains(p) {
                let radix: Int = (p == "x" || p == "X") ? 16 : (p == "o" || p == "O") ? 8 : 2
                i += 2
                let digits = try digitRun(allowLeadingUnderscore: true) { d in
                    guard let v = hexValue(d) else { return false }
                    return v < radix
                }
                if let c = current, isIdentifierContinue(c) { throw NotLiteral() }
                return integer(digits, radix: radix)
            }
            var intPart = ""
            if current != "." { intPart = try digitRun(allowLeadingUnderscore: false) { isDigit($0) } }
            var isFloat = false
            var text = intPart
            if current == "." {
                isFloat = true
                i += 1
                text += "."
                if let c = current, isDigit(c) {
                    text += try digitRun(allowLeadingUnderscore: false) { isDigit($0) }
                }
            }
            if let e = current, e == "e" || e == "E" {
                let save = i
                i += 1
                var exponent = "e"
                if let sign = current, sign == "+" || sign == "-" { exponent.unicodeScalars.append(sign); i += 1 }
                if let c = current, isDigit(c) {
                    exponent += try digitRun(allowLeadingUnderscore: false) { isDigit($0) }
                    text += exponent
                    isFloat = true
                } else {
                    i = save
                    throw NotLiteral()  // `1e` is a syntax error
                }
            }
            var imaginary = false
            if let j = current, j == "j" || j == "J" {
                imaginary = true
                i += 1
            }
            if let c = current, isIdentifierContinue(c) { throw NotLiteral() }
            if imaginary {
                guard let v = Double(text) else { throw NotLiteral() }
                return .complex(real: 0, imag: v)
            }
            if isFloat {
                guard let v = Double(text) else { throw NotLiteral() }
                return .float(v)
            }
            // Decimal integers may not have leading zeros, except for zero itself (`00` is 0).
            if intPart.count > 1, intPart.first == "0", intPart.contains(where: { $0 != "0" }) { throw NotLiteral() }
            return integer(intPart, radix: 10)
        }

        /// Digits with single underscores between them (and, after a radix prefix, one before the first).
        mutating func digitRun(allowLeadingUnderscore: Bool, _ isValid: (Unicode.Scalar) -> Bool) throws -> String {
            var out = ""
            var lastWasUnderscore = false
            if allowLeadingUnderscore, current == "_" { i += 1; lastWasUnderscore = true }
            while let c = current {
                if c == "_" {
                    if lastWasUnderscore || out.isEmpty { throw NotLiteral() }
                    lastWasUnderscore = true
                    i += 1
                    continue
                }
                guard isValid(c) else { break }
                out.unicodeScalars.append(c)
                lastWasUnderscore = false
                i += 1
            }
            if lastWasUnderscore || out.isEmpty { throw NotLiteral() }
            return out
        }

        func integer(_ digits: String, radix: Int) -> Value {
            if let v = Int(digits, radix: radix) { return .int(v) }
            if radix == 10, let d = Double(digits) { return .bigInt(d) }
            var d = 0.0
            for c in digits.unicodeScalars { d = d * Double(radix) + Double(hexValue(c) ?? 0) }
            return .bigInt(d)
        }
    }

    static func isDigit(_ c: Unicode.Scalar) -> Bool { c.value >= 48 && c.value <= 57 }

    static func hexValue(_ c: Unicode.Scalar) -> UInt32? {
        switch c.value {
        case 48...57: return c.value - 48
        case 65...70: return c.value - 55
        case 97...102: return c.value - 87
        default: return nil
        }
    }

    static func isIdentifierStart(_ c: Unicode.Scalar) -> Bool {
        c == "_" || c.properties.isXIDStart
    }

    static func isIdentifierContinue(_ c: Unicode.Scalar) -> Bool {
        c == "_" || c.properties.isXIDContinue
    }
}

private func isDigit(_ c: Unicode.Scalar) -> Bool { PythonLiteral.isDigit(c) }
private func hexValue(_ c: Unicode.Scalar) -> UInt32? { PythonLiteral.hexValue(c) }
private func isIdentifierStart(_ c: Unicode.Scalar) -> Bool { PythonLiteral.isIdentifierStart(c) }
private func isIdentifierContinue(_ c: Unicode.Scalar) -> Bool { PythonLiteral.isIdentifierContinue(c) }
