import ArgumentParser

/// `fwctl template ...`: tools for people writing fwctl's Mustache templates.
struct TemplateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "template",
        abstract: "Work with the Mustache templates fwctl renders its files from.",
        subcommands: [TemplateRenderCommand.self]
    )
}
