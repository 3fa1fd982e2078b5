import ArgumentParser
import FWCommandLine
import FWTemplate
import Logging

extension TemplateOptions.Escaping: ExpressibleByArgument {}

/// `fwctl template render FILE`: renders one template with data and prints exactly the output bytes.
struct TemplateRenderCommand: FWCommand {
    static let configuration = CommandConfiguration(
        commandName: "render",
        abstract: "Render a Mustache template and print exactly the result.",
        discussion: """
            Prints the rendered bytes to stdout and nothing else (no newline is added). By default a template \
            renders the way fwctl renders its own files: strict (a name the data does not define is an error, \
            in {{x}}, {{#x}} and {{^x}} alike) with rules escaping (every interpolated value may contain only \
            ASCII letters, digits, space and . _ : / - , + @ = %; anything else, such as a newline or a quote, \
            is an error, never output).

            Errors go to stderr with file, line and column; a bad template or bad data exits with status 2.
            """
    )

    @OptionGroup var global: GlobalOptions

    @Argument(help: "The template file.")
    var file: String

    @Option(name: .long, help: ArgumentHelp(
        "The data: a JSON (.json) or YAML (.yml, .yaml) file. Without it the data is an empty object.",
        valueName: "file"))
    var data: String?

    @Option(name: .long, help: ArgumentHelp(
        "The folder partials come from: {{> name}} reads DIR/name.mustache (subfolders too: {{> iptables/chain}}).",
        valueName: "dir"))
    var partials: String?

    @Option(name: .long, help: ArgumentHelp(
        "How values are escaped: rules (refuse anything outside the rule-safe set, fwctl's own files), html (the Mustache spec's), none.",
        valueName: "mode"))
    var escape: TemplateOptions.Escaping = .rules

    @Flag(name: .long, help: "Lenient names, as the Mustache spec has them: a missing name renders as nothing, a missing partial too.")
    var lenient = false

    func execute(log: Logger) throws {
        let options = TemplateOptions(escaping: escape, strict: !lenient)
        var sources = try partials.map { try TemplateSet.sources(inDirectory: $0) } ?? []
        sources.append(try TemplateSource(contentsOfFile: file))
        log.debug("compiling \(sources.count) template(s)", metadata: ["escape": "\(escape.rawValue)", "strict": "\(!lenient)"])
        let set = try TemplateSet(sources, options: options)
        let values = try data.map(TemplateDataFile.load) ?? [:]
        // Written from where it was rendered: a large output is never copied.
        let written: Result<Void, any Error> = try set.template(named: file).withRendered(values) { output in
            Result { try Terminal.writeResults(output) }
        }
        try written.get()
    }
}
