/// Makes text that came from input safe to show on a terminal: every character that could move the cursor,
/// rewrite a line, reorder what is shown or start an escape sequence is replaced by a visible `\u{...}` escape
/// (`\n`, `\r`, `\t`, `\0` for the common ones). Printable text, non-ASCII letters included, is left as it is.
///
/// Escaped: the C0 and C1 control characters and DEL (ESC starts terminal sequences, CR rewrites a line, LF and
/// NEL start a fake one), Unicode format characters (bidirectional overrides such as U+202E, zero-width
/// characters), line and paragraph separators (U+2028, U+2029), and every unassigned, private-use or surrogate
/// code point. The backslash is not escaped, so escaping twice changes nothing more than escaping once.
public enum DisplayEscaping {
    /// `text` on one line, with every unsafe character escaped (line breaks too).
    public static func escaped(_ text: String) -> String {
        escape(text, keepingLineFeeds: false)
    }

    /// `text` with every unsafe character escaped except line feeds: for output that is several lines by design,
    /// whose values were escaped already (a second line of advice, a table).
    public static func escapedKeepingLineFeeds(_ text: String) -> String {
        escape(text, keepingLineFeeds: true)
    }

    /// A name for a message: as it is when it is plain (printable ASCII, no quote or backslash, no space), otherwise
    /// escaped and in double quotes, so `web db` and `web\u{0}db` are visibly not `web`.
    public static func quotedName(_ name: String) -> String {
        let plain = !name.isEmpty && name.utf8.allSatisfy { $0 > 0x20 && $0 < 0x7F && $0 != 0x22 && $0 != 0x5C }
        return plain ? name : "\"" + escaped(name).replacingAll("\"", with: "\\\"") + "\""
    }

    /// True when `scalar` must not reach a terminal as it is.
    public static func isUnsafe(_ scalar: Unicode.Scalar) -> Bool {
        let value = scalar.value
        if value < 0x20 || (0x7F...0x9F).contains(value) { return true }
        if value < 0x7F { return false }
        switch scalar.properties.generalCategory {
        case .format, .lineSeparator, .paragraphSeparator, .unassigned, .privateUse, .surrogate, .control:
            return true
        default:
            return false
        }
    }

    private static func escape(_ text: String, keepingLineFeeds: Bool) -> String {
        // Fast path: most values are plain ASCII and come back unchanged, without a copy.
        if text.utf8.allSatisfy({ $0 >= 0x20 && $0 < 0x7F || (keepingLineFeeds && $0 == 0x0A) }) { return text }
        var result = ""
        result.reserveCapacity(text.utf8.count)
        for scalar in text.unicodeScalars {
            if keepingLineFeeds && scalar == "\n" || !isUnsafe(scalar) {
                result.unicodeScalars.append(scalar)
                continue
            }
            switch scalar {
            case "\n": result += "\\n"
            case "\r": result += "\\r"
            case "\t": result += "\\t"
            case "\0": result += "\\0"
            default: result += "\\u{" + String(scalar.value, radix: 16, uppercase: true) + "}"
            }
        }
        return result
    }
}

extension String {
    fileprivate func replacingAll(_ target: Character, with replacement: String) -> String {
        guard contains(target) else { return self }
        var result = ""
        for character in self { if character == target { result += replacement } else { result.append(character) } }
        return result
    }
}
