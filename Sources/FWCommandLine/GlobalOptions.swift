import ArgumentParser
import Logging
import Synchronization

/// Options every command of every executable takes: how much to say on stderr.
public struct GlobalOptions: ParsableArguments {
    @Flag(name: .shortAndLong, help: "Say more on stderr (-v debug, -vv trace).")
    public var verbose: Int

    @Flag(name: .shortAndLong, help: "Print only errors on stderr.")
    public var quiet = false

    public init() {}

    public var logLevel: Logger.Level {
        if quiet { return .error }
        switch verbose {
        case 0: return .info
        case 1: return .debug
        default: return .trace
        }
    }

    /// Sets up logging for the process at this level; `FWCommand.run()` calls it before the command's work.
    /// swift-log allows one bootstrap per process, so a second call (a command run twice in one process, as in
    /// tests) only changes the level.
    public func bootstrapLogging() -> Logger { Self.bootstrapLogging(level: logLevel) }

    /// The same at a level of the program's choosing (the tunnel daemons take `--log-level`).
    public static func bootstrapLogging(level: Logger.Level) -> Logger {
        ProcessLogging.level.withLock { $0 = level }
        _ = ProcessLogging.bootstrapped
        var logger = Logger(label: Terminal.programName)
        logger.logLevel = level
        return logger
    }
}

private enum ProcessLogging {
    static let level = Mutex(Logger.Level.info)

    static let bootstrapped: Void = LoggingSystem.bootstrap { label in
        var handler = StderrLogHandler(label: label, colour: Terminal.stderrSupportsColour)
        handler.logLevel = level.withLock { $0 }
        return handler
    }
}
