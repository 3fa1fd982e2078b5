/// Python's `shlex.split(line, comments=True)` (POSIX mode), which Ansible uses to split INI host lines:
/// whitespace separates words, `'...'` and `"..."` quote (backslash escapes only `"` and `\` inside double quotes),
/// a backslash outside quotes escapes any character, and `#` outside quotes starts a comment, even mid-word.
enum ShellWords {
    enum SplitError: Error, CustomStringConvertible {
        case noClosingQuotation
        case noEscapedCharacter

        var description: String {
            switch self {
            case .noClosingQuotation: return "a quotation is not closed"
            case .noEscapedCharacter: return "the line ends with a backslash that escapes nothing"
            }
        }
    }

    private enum State {
        case whitespace, word, singleQuote, doubleQuote, escape
    }

    static func split(_ line: Substring) throws -> [String] {
        // Most host lines have no quotes, escapes or comments: plain whitespace splitting gives the same words.
        if !line.utf8.contains(where: { $0 == UInt8(ascii: "'") || $0 == UInt8(ascii: "\"") || $0 == UInt8(ascii: "\\") || $0 == UInt8(ascii: "#") }) {
            return line.utf8.split(whereSeparator: { $0 == 0x20 || $0 == 0x09 || $0 == 0x0D || $0 == 0x0A })
                .map { String(Substring($0)) }
        }
        return try splitFully(line)
    }

    /// The full state machine, without the fast path (the fuzzer checks that both agree).
    static func splitFully(_ line: Substring) throws -> [String] {
        var words: [String] = []
        var token = String.UnicodeScalarView()
        var quoted = false
        var state = State.whitespace
        var escapedState = State.word
        var scalars = line.unicodeScalars.makeIterator()

        func emit() {
            if !token.isEmpty || quoted { words.append(String(token)) }
            token = String.UnicodeScalarView()
            quoted = false
        }

        func skipComment() {
            while let c = scalars.next(), c != "\n" {}
        }

        while true {
            let next = scalars.next()
            switch state {
            case .whitespace:
                guard let c = next else { emit(); return words }
                switch c {
                case " ", "\t", "\r", "\n": continue
                case "#": skipComment()
                case "\\": escapedState = .word; state = .escape
                case "'": state = .singleQuote
                case "\"": state = .doubleQuote
                default: token.append(c); state = .word
                }
            case .singleQuote, .doubleQuote:
                quoted = true
                guard let c = next else { throw SplitError.noClosingQuotation }
                if (c == "'" && state == .singleQuote) || (c == "\"" && state == .doubleQuote) {
                    state = .word
                } else if c == "\\" && state == .doubleQuote {
                    escapedState = .doubleQuote
                    state = .escape
                } else {
                    token.append(c)
                }
            case .escape:
                guard let c = next else { throw SplitError.noEscapedCharacter }
                // Inside double quotes only the quote and the backslash itself can be escaped.
                if escapedState == .doubleQuote && c != "\\" && c != "\"" { token.append("\\") }
                token.append(c)
                state = escapedState
            case .word:
                guard let c = next else { emit(); return words }
                switch c {
                case " ", "\t", "\r", "\n":
                    emit(); state = .whitespace
                case "#":
                    skipComment(); emit(); state = .whitespace
                case "'": state = .singleQuote
                case "\"": state = .doubleQuote
                case "\\": escapedState = .word; state = .escape
                default: token.append(c)
                }
            }
        }
    }
}
