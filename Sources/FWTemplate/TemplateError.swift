import FWBase

/// Everything that can go wrong loading, compiling or rendering a template, with where and what to do.
///
/// `description` reads `FILE:LINE:COLUMN: what happened; what to do`, the form editors and terminals link to.
public struct TemplateError: Error, Sendable, Equatable, CustomStringConvertible {
    public enum Kind: String, Sendable, Equatable {
        /// The template text is not valid Mustache (unclosed tag or section, mismatched close, bad delimiters).
        case syntax
        /// `{{> name}}` names a partial the template set does not have.
        case unknownPartial
        /// Strict mode: a tag names something the data does not define.
        case undefinedName
        /// Rules escaping: an interpolated value holds a character outside the rule-safe set.
        case unsafeValue
        /// An interpolated value is a list or an object, which has no text form.
        case notText
        /// A limit that keeps rendering bounded was reached (partial recursion, nesting, output size, work).
        case limitExceeded
        /// A template name that the set does not have, or a file or folder that could not be read.
        case notFound
        /// Two templates in one set have the same name.
        case duplicateName
    }

    public var kind: Kind
    /// The template's name in its set (e.g. `iptables/rules.v4`).
    public var template: String
    /// The file the template came from, or the template name when it was not read from a file.
    public var file: String
    /// 1-based line and column (column counted in Unicode scalars); 0 when the error has no position.
    public var line: Int
    public var column: Int
    /// What happened.
    public var message: String
    /// What to do about it.
    public var help: String

    public init(
        _ kind: Kind, template: String, file: String? = nil, line: Int = 0, column: Int = 0,
        message: String, help: String
    ) {
        self.kind = kind
        self.template = template
        self.file = file ?? template
        self.line = line
        self.column = column
        self.message = message
        self.help = help
    }

    /// One line, every part escaped for display: messages quote template text and data values.
    public var description: String {
        let location = line > 0 ? "\(file):\(line):\(column)" : file
        let text = help.isEmpty ? "\(location): \(message)" : "\(location): \(message); \(help)"
        return DisplayEscaping.escaped(text)
    }
}
