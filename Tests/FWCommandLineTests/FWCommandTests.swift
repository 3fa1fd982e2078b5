import ArgumentParser
import FWCommandLine
import Logging
import Testing

private struct BadInput: InvalidInputError {}
private struct HostDown: Error {}

/// A command whose body throws what `--fail` says, to see the frame map it to an exit status.
private struct ProbeCommand: FWCommand {
    @OptionGroup var global: GlobalOptions
    @Option var fail: String = "none"

    func execute(log: Logger) throws {
        switch fail {
        case "input": throw BadInput()
        case "host": throw HostDown()
        case "exit": throw ExitCode(7)
        case "validation": throw ValidationError("bad flag")
        default: return
        }
    }
}

@Suite struct FWCommandTests {
    func status(_ arguments: [String]) throws -> Int32? {
        let command = try ProbeCommand.parse(arguments + ["--quiet"])
        do {
            try command.run()
            return 0
        } catch let exit as ExitCode {
            return exit.rawValue
        } catch is ValidationError {
            return nil
        }
    }

    @Test func errorsBecomeTheDocumentedExitStatuses() throws {
        #expect(try status([]) == ExitStatus.success)
        #expect(try status(["--fail", "input"]) == ExitStatus.invalidInput)
        #expect(try status(["--fail", "host"]) == ExitStatus.failure)
        #expect(try status(["--fail", "exit"]) == 7, "an ExitCode the command chose passes through")
        #expect(try status(["--fail", "validation"]) == nil, "a ValidationError reaches ArgumentParser (exit 64)")
    }

    @Test func globalOptionsSetTheLogLevel() throws {
        #expect(try GlobalOptions.parse([]).logLevel == .info)
        #expect(try GlobalOptions.parse(["-v"]).logLevel == .debug)
        #expect(try GlobalOptions.parse(["-vv"]).logLevel == .trace)
        #expect(try GlobalOptions.parse(["-v", "--quiet"]).logLevel == .error)
    }

    @Test func textTablePadsAllButTheLastColumn() {
        let text = TextTable.render([["HOST", "RESULT"], ["db1", "ok"], ["a-longer-name", "unreachable"]])
        #expect(text == "HOST           RESULT\ndb1            ok\na-longer-name  unreachable\n")
    }
}
