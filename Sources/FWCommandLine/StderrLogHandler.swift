import FWBase
import Logging

/// One line per message on stderr: `fwctl: warning: message key=value`.
public struct StderrLogHandler: LogHandler {
    public let label: String
    public let colour: Bool
    public var logLevel: Logger.Level = .info
    public var metadata: Logger.Metadata = [:]

    public init(label: String, colour: Bool) {
        self.label = label
        self.colour = colour
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    public func log(event: LogEvent) {
        var line = ""
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
        Terminal.say(line)
    }
}
