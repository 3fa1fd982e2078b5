import FWBase
import Logging

/// One line per message on stderr: `fwctl: warning: message key=value`.
struct StderrLogHandler: LogHandler {
    let label: String
    let colour: Bool
    var logLevel: Logger.Level = .info
    var metadata: Logger.Metadata = [:]

    init(label: String, colour: Bool) {
        self.label = label
        self.colour = colour
    }

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    func log(event: LogEvent) {
        var line = "fwctl: "
        switch event.level {
        case .critical, .error: line += Terminal.paint("error: ", .red, enabled: colour)
        case .warning: line += Terminal.paint("warning: ", .yellow, enabled: colour)
        case .debug, .trace: line += Terminal.paint("\(event.level): ", .dim, enabled: colour)
        case .info, .notice: break
        }
        line += DisplayEscaping.escaped("\(event.message)")  // messages quote input values
        let merged = metadata.merging(event.metadata ?? [:]) { _, new in new }
        for key in merged.keys.sorted() {
            line += " \(key)=\(DisplayEscaping.escaped("\(merged[key]!)"))"
        }
        Terminal.writeStderr(line + "\n")
    }
}
