import FWBase

/// Where something was written: a file, and the line (and column) when known.
public struct FileLocation: Sendable, Hashable, CustomStringConvertible {
    public var file: String
    /// 1-based; nil when the value has no single line (a script's output, a whole file).
    public var line: Int?
    public var column: Int?

    public init(file: String, line: Int? = nil, column: Int? = nil) {
        self.file = file
        self.line = line
        self.column = column
    }

    /// `file:line:column`, `file:line` or `file`, the file name escaped for display.
    public var description: String {
        var text = DisplayEscaping.escaped(file)
        if let line {
            text += ":\(line)"
            if let column { text += ":\(column)" }
        }
        return text
    }
}

/// Everything that can be wrong with an inventory or a host pattern: where (file and line), what is wrong, and
/// what to do about it. Printed as `FILE:LINE: MESSAGE` with the advice on the next line; the message and the
/// advice hold values from the inventory, so each is escaped for display (one line each, whatever a value holds).
public struct InventoryError: Error, Sendable, CustomStringConvertible {
    public var location: FileLocation?
    /// What is wrong, including what was expected.
    public var message: String
    /// What to do about it, when there is something better to say than the message implies.
    public var hint: String?

    public init(_ message: String, at location: FileLocation? = nil, hint: String? = nil) {
        self.location = location
        self.message = message
        self.hint = hint
    }

    public var file: String? { location?.file }
    public var line: Int? { location?.line }

    public var description: String {
        var text = location.map { "\($0): " } ?? ""
        text += DisplayEscaping.escaped(message)
        if let hint { text += "\n  \(DisplayEscaping.escaped(hint))" }
        return text
    }
}
