/// How a template set compiles and renders.
///
/// fwctl renders its own files with `.fwctl` (rules escaping, strict); `.spec` is the Mustache specification's
/// behaviour (HTML escaping, a missing name renders as nothing).
public struct TemplateOptions: Sendable, Equatable {
    /// What happens to an interpolated value on its way into the output.
    public enum Escaping: String, Sendable, Equatable, CaseIterable {
        /// The spec's HTML escaping for `{{x}}` (`& < > " '`); `{{{x}}}` and `{{&x}}` are written as they are.
        case html
        /// Every value is written as it is.
        case none
        /// Rule-safe: every byte of every interpolated value, `{{x}}`, `{{{x}}}` and `{{&x}}` alike, must be in
        /// the rule-safe set (see `RuleSafety`), or rendering fails with an error naming the template, line,
        /// column, the name and the offending character. Nothing is ever escaped or dropped silently.
        case rules
    }

    public var escaping: Escaping
    /// Strict: a name that resolves to nothing is an error, whether in `{{x}}`, `{{#x}}` or `{{^x}}`, as is
    /// interpolating `null`; a partial the set lacks is an error when the set is loaded. A section over a
    /// name that is present but `false`, `null`, `""` or `[]` is fine (that is how data says "none").
    /// Lenient (the spec): a missing name renders as nothing, and so does a missing partial.
    public var strict: Bool
    public var limits: TemplateLimits

    public init(escaping: Escaping = .rules, strict: Bool = true, limits: TemplateLimits = .init()) {
        self.escaping = escaping
        self.strict = strict
        self.limits = limits
    }

    /// fwctl's own files: rule-safe escaping, strict names.
    public static let fwctl = TemplateOptions(escaping: .rules, strict: true)
    /// The Mustache specification: HTML escaping, lenient names.
    public static let spec = TemplateOptions(escaping: .html, strict: false)
}

/// Bounds that keep every input finite: no template or data can recurse, nest or loop without limit.
public struct TemplateLimits: Sendable, Equatable {
    /// How deeply partials may include partials (a recursive partial stops here with an error naming the chain).
    public var partialDepth: Int
    /// How deeply sections may nest inside one template's text.
    public var sectionNesting: Int
    /// How deeply sections and partials may nest while rendering, all templates together.
    public var renderDepth: Int
    /// The most bytes one render may produce.
    public var outputBytes: Int
    /// The most section iterations (list items plus non-list sections entered) one render may perform.
    public var iterations: Int
    /// The longest delimiter `{{=<% %>=}}` may set.
    public var delimiterLength: Int

    public init(
        partialDepth: Int = 64, sectionNesting: Int = 100, renderDepth: Int = 256,
        outputBytes: Int = 1 << 30, iterations: Int = 50_000_000, delimiterLength: Int = 32
    ) {
        self.partialDepth = partialDepth
        self.sectionNesting = sectionNesting
        self.renderDepth = renderDepth
        self.outputBytes = outputBytes
        self.iterations = iterations
        self.delimiterLength = delimiterLength
    }
}
