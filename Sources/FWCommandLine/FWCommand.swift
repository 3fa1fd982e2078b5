import ArgumentParser
import FWBase
import Logging

/// A command of one of fwctl's executables. It implements `execute(log:)`; the `run()` given here sets up
/// logging from the global options, runs it, and turns whatever it throws into one line on stderr and the
/// documented exit status (2 for an `InvalidInputError`, 1 for anything else). ArgumentParser's own exits
/// (`ExitCode`, `CleanExit`, `ValidationError`) pass through unchanged.
public protocol FWCommand: ParsableCommand {
    var global: GlobalOptions { get }
    func execute(log: Logger) throws
}

extension FWCommand {
    public func run() throws {
        let log = global.bootstrapLogging()
        try reportingErrors { try execute(log: log) }
    }
}

/// Runs a command body, printing any error once on stderr and turning it into the documented exit status.
public func reportingErrors(_ body: () throws -> Void) throws {
    do {
        try body()
    } catch let error as ExitCode {
        throw error
    } catch let error as CleanExit {
        throw error
    } catch let error as ValidationError {
        throw error
    } catch {
        // Library errors escape their values already; this covers errors of other types (Foundation's quote paths).
        Terminal.sayError(DisplayEscaping.escapedKeepingLineFeeds("\(error)"))
        throw ExitCode(error is InvalidInputError ? ExitStatus.invalidInput : ExitStatus.failure)
    }
}
