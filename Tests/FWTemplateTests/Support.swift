import FWTemplate

/// Renders `text` with `partials` under `options`, as a String.
func render(
    _ text: String, _ data: TemplateValue = [:], partials: [String: String] = [:],
    options: TemplateOptions = .spec
) throws -> String {
    var sources = [TemplateSource(name: "main", text: text, file: "main.mustache")]
    for (name, partial) in partials.sorted(by: { $0.key < $1.key }) {
        sources.append(TemplateSource(name: name, text: partial, file: "\(name).mustache"))
    }
    return try TemplateSet(sources, options: options).template(named: "main").renderString(data)
}

/// The error rendering `text` throws, or nil if it renders.
func renderError(
    _ text: String, _ data: TemplateValue = [:], partials: [String: String] = [:],
    options: TemplateOptions = .fwctl
) -> TemplateError? {
    do {
        _ = try render(text, data, partials: partials, options: options)
        return nil
    } catch let error as TemplateError {
        return error
    } catch {
        return nil
    }
}
