import ArgumentParser
import Logging

/// Options every subcommand takes: how much to say on stderr.
struct GlobalOptions: ParsableArguments {
    @Flag(name: .shortAndLong, help: "Say more on stderr (-v debug, -vv trace).")
    var verbose: Int

    @Flag(name: .shortAndLong, help: "Print only errors on stderr.")
    var quiet = false

    var logLevel: Logger.Level {
        if quiet { return .error }
        switch verbose {
        case 0: return .info
        case 1: return .debug
        default: return .trace
        }
    }

    /// Sets up logging for the process; call once, at the start of a subcommand's run.
    func bootstrapLogging() -> Logger {
        let level = logLevel
        LoggingSystem.bootstrap { label in
            var handler = StderrLogHandler(label: label, colour: Terminal.stderrSupportsColour)
            handler.logLevel = level
            return handler
        }
        return Logger(label: "fwctl")
    }
}
