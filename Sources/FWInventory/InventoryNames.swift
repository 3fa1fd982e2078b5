/// The rule for group and host names, applied to every source kind when the name is declared.
///
/// Ansible warns about group names outside `[A-Za-z_][A-Za-z0-9_]*` but keeps most of them (`web-servers` is
/// common and stays valid here). What no name may hold is refused: control characters (NUL, ESC, CR, LF, DEL, the
/// C1 range), Unicode format characters (bidirectional overrides, zero-width characters), line and paragraph
/// separators, whitespace, and unassigned or private-use code points. Such a name cannot be typed, shown or put in a
/// rule file without ambiguity: `web\u{0}db` would look like two group names wherever names are joined.
enum InventoryNames {
    /// Why `name` cannot be a group or host name, or nil when it can.
    static func problem(with name: String) -> String? {
        for scalar in name.unicodeScalars where isRefused(scalar) {
            let code = String(scalar.value, radix: 16, uppercase: true)
            let codePoint = "U+" + String(repeating: "0", count: max(0, 4 - code.count)) + code
            let control = scalar.value < 0x20 || (0x7F...0x9F).contains(scalar.value)
            let kind = !control && scalar.properties.isWhitespace ? "whitespace" : "a control or invisible character"
            return "contains \(kind) (\(codePoint))"
        }
        return nil
    }

    private static func isRefused(_ scalar: Unicode.Scalar) -> Bool {
        if scalar.value < 0x21 || (0x7F...0x9F).contains(scalar.value) { return true }
        if scalar.isASCII { return false }
        if scalar.properties.isWhitespace { return true }
        switch scalar.properties.generalCategory {
        case .control, .format, .lineSeparator, .paragraphSeparator, .spaceSeparator, .unassigned, .privateUse, .surrogate:
            return true
        default:
            return false
        }
    }

    /// Throws the located error for a name that breaks the rule.
    static func check(_ name: String, kind: String, at location: FileLocation?) throws {
        guard let problem = problem(with: name) else { return }
        throw InventoryError(
            "\(kind) name '\(name)' \(problem)", at: location,
            hint: "\(kind) names are printable characters without spaces, e.g. web_servers or web-01")
    }
}
