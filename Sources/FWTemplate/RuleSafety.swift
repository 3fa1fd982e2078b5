/// The rule-safe character set, which `TemplateOptions.Escaping.rules` enforces on every interpolated value.
///
/// Allowed bytes: ASCII letters `A-Z a-z`, digits `0-9`, the space, and `. _ : / - , + @ = %`. That covers
/// addresses (`192.0.2.0/24`, `2001:db8::1`), ports and ranges (`22`, `1000:2000`, `80,443`), interface and set
/// names (`eth0`, `wg-home`, `eth+`), comments made of words, and `key=value` options. Everything else is refused:
/// newline, carriage return, NUL and every other control character (they end or break a rule line), quotes and
/// backslash (they end a quoted comment), `;` `#` `{` `}` `$` and backtick (shell and nft syntax), `!` `&` `|`
/// `<` `>` `*` `?` `(` `)` `[` `]` `~` `^` `'`, and every non-ASCII character. A refused value is a render
/// error naming the template, line, column, the tag's name and the character; it is never written.
public enum RuleSafety {
    /// The punctuation allowed besides ASCII letters and digits (the space is the first character).
    public static let allowedPunctuation = " ._:/-,+@=%"

    /// Whether `byte` may appear in an interpolated value in a rule file.
    @inlinable
    public static func isAllowed(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
            UInt8(ascii: "0")...UInt8(ascii: "9"):
            return true
        case UInt8(ascii: " "), UInt8(ascii: "."), UInt8(ascii: "_"), UInt8(ascii: ":"), UInt8(ascii: "/"),
            UInt8(ascii: "-"), UInt8(ascii: ","), UInt8(ascii: "+"), UInt8(ascii: "@"), UInt8(ascii: "="),
            UInt8(ascii: "%"):
            return true
        default:
            return false
        }
    }

    /// The first character of `value` that is not rule-safe, described as in error messages
    /// (`"\n" (U+000A)`, `"é" (U+00E9)`), with its byte offset; nil when the whole value is safe.
    public static func firstUnsafeCharacter(in value: String) -> (offset: Int, description: String)? {
        var offset = 0
        for byte in value.utf8 {
            if !isAllowed(byte) { return (offset, describeCharacter(atByte: offset, in: value)) }
            offset += 1
        }
        return nil
    }

    /// Describes the character that starts at UTF-8 offset `offset` of `value`, escaped so it is visible. The
    /// offset is that of the first unsafe byte: every byte before it is ASCII, so it starts a character.
    private static func describeCharacter(atByte offset: Int, in value: String) -> String {
        let utf8 = value.utf8
        let index = utf8.index(utf8.startIndex, offsetBy: offset)
        let scalar = value.unicodeScalars[index]
        let code = String(scalar.value, radix: 16, uppercase: true)
        let codePoint = "U+" + String(repeating: "0", count: max(0, 4 - code.count)) + code
        let shown: String
        switch scalar {
        case "\n": shown = #""\n""#
        case "\r": shown = #""\r""#
        case "\t": shown = #""\t""#
        case "\0": shown = #""\0""#
        case "\"": shown = #""\"""#
        case "\\": shown = #""\\""#
        default:
            if scalar.properties.generalCategory == .control || scalar.properties.isWhitespace
                || scalar.properties.generalCategory == .format
            {
                shown = "\"\\u{\(code)}\""
            } else {
                shown = "\"\(scalar)\""
            }
        }
        return "\(shown) (\(codePoint))"
    }
}
