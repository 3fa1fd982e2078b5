import Synchronization

/// A template's text with its name in a set and, when it was read from a file, the file's path.
public struct TemplateSource: Sendable, Equatable {
    /// The name partials use for it: `{{> iptables/chain}}` names `iptables/chain`.
    public var name: String
    /// The file, for error messages; nil when the text did not come from a file.
    public var file: String?
    public var text: String

    public init(name: String, text: String, file: String? = nil) {
        self.name = name
        self.text = text
        self.file = file
    }

    /// Reads a template file (UTF-8); its name is `name`, or the path itself.
    public init(contentsOfFile path: String, name: String? = nil) throws(TemplateError) {
        self.init(name: name ?? path, text: try TemplateFiles.readText(path), file: path)
    }
}

/// A compiled template, ready to render any number of times, from any number of threads at once.
///
/// Get it from a `TemplateSet` (compiled once), then call `render(_:)` per data value. Rendering only reads the
/// compiled form, so one `Template` can be shared freely between threads and tasks.
public struct Template: Sendable {
    let compiled: CompiledSet
    let index: Int

    init(compiled: CompiledSet, index: Int) {
        self.compiled = compiled
        self.index = index
    }

    /// The template's name in its set.
    public var name: String { compiled.templates[index].name }
    /// The options it was compiled with.
    public var options: TemplateOptions { compiled.options }

    /// Renders `data` into a new byte array.
    public func render(_ data: TemplateValue) throws(TemplateError) -> [UInt8] {
        try withRendered(data) { Array($0) }
    }

    /// Renders `data` and hands `body` the output where it was rendered, valid only during the call: for output
    /// that is written out and dropped (one large file to stdout), which then is never copied.
    public func withRendered<Result>(_ data: TemplateValue, _ body: (UnsafeBufferPointer<UInt8>) -> Result) throws(TemplateError) -> Result {
        let hint = compiled.sizeHints[index]
        var renderer = Renderer(set: compiled, capacity: hint.bytes.load(ordering: .relaxed) + 256)
        try renderer.render(template: index, data: data)
        hint.bytes.store(renderer.count, ordering: .relaxed)
        return body(renderer.output)
    }

    /// Renders `data` as a `String` (the output is UTF-8 because templates and values are).
    public func renderString(_ data: TemplateValue) throws(TemplateError) -> String {
        String(decoding: try render(data), as: UTF8.self)
    }
}

/// Templates compiled together so they can include each other as partials, loaded from a folder or given as
/// text. Partials are resolved once, when the set is built.
public struct TemplateSet: Sendable {
    let compiled: CompiledSet

    /// Compiles and links `sources`. In strict mode a partial the set lacks is an error here.
    public init(_ sources: [TemplateSource], options: TemplateOptions = .fwctl) throws(TemplateError) {
        var compiler = Compiler(options: options)
        for source in sources { try compiler.add(source) }
        compiled = try compiler.link()
    }

    /// Compiles templates given as name -> text.
    public init(templates: [String: String], options: TemplateOptions = .fwctl) throws(TemplateError) {
        try self.init(
            templates.sorted { $0.key < $1.key }.map { TemplateSource(name: $0.key, text: $0.value) },
            options: options)
    }

    /// Loads every `*.mustache` file under `directory` (subfolders included); a file's name in the set is its
    /// path relative to `directory` without `.mustache`, e.g. `iptables/rules.v4`.
    public init(directory: String, options: TemplateOptions = .fwctl) throws(TemplateError) {
        try self.init(TemplateFiles.sources(inDirectory: directory), options: options)
    }

    /// The sources `init(directory:)` would load, for callers that add templates of their own to them.
    public static func sources(inDirectory directory: String) throws(TemplateError) -> [TemplateSource] {
        try TemplateFiles.sources(inDirectory: directory)
    }

    /// The names of the templates in the set, sorted.
    public var names: [String] { compiled.templates.map(\.name).sorted() }

    /// The template called `name`.
    public func template(named name: String) throws(TemplateError) -> Template {
        guard let index = compiled.templateIndex[name] else {
            let known = names
            throw TemplateError(
                .notFound, template: name, message: "no template named '\(name)'",
                help: known.isEmpty ? "the set is empty" : "the set has: \(known.prefix(20).joined(separator: ", "))")
        }
        return Template(compiled: compiled, index: index)
    }

    /// Renders the template called `name` with `data`.
    public func render(_ name: String, _ data: TemplateValue) throws(TemplateError) -> [UInt8] {
        try template(named: name).render(data)
    }
}
