import ArgumentParser
import FWBase

/// The exit statuses documented in `fwctl --help` and the README.
enum ExitStatus {
    static let success: Int32 = 0
    /// A check found a problem, or a host failed.
    static let failure: Int32 = 1
    /// The input (inventory, policy, template) is invalid.
    static let invalidInput: Int32 = 2
}

/// Errors caused by what the user gave fwctl (exit 2), as opposed to a host or check failing (exit 1).
/// Library error types are marked with this in `InputErrors.swift`.
protocol InvalidInputError: Error {}

/// Runs a subcommand body, printing any error once on stderr and turning it into the documented exit status.
func reportingErrors(_ body: () throws -> Void) throws {
    do {
        try body()
    } catch let error as ExitCode {
        throw error
    } catch let error as CleanExit {
        throw error
    } catch let error as ValidationError {
        throw error
    } catch {
        let prefix = Terminal.paint("error: ", .red, enabled: Terminal.stderrSupportsColour)
        // Library errors escape their values already; this covers errors of other types (Foundation's quote paths).
        Terminal.writeStderr("fwctl: \(prefix)\(DisplayEscaping.escapedKeepingLineFeeds("\(error)"))\n")
        throw ExitCode(error is InvalidInputError ? ExitStatus.invalidInput : ExitStatus.failure)
    }
}
