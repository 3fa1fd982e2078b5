import ArgumentParser
import FWBase
import FWCommandLine
import FWTunnel
import Logging

/// The command-line frame of fwtunnel-work: options, logging, exit statuses. The tunnel itself is FWTunnel.
@main
struct FWTunnelWork: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "fwtunnel-work",
        abstract: "The inside end of fwctl's reverse tunnel: dials out to home and connects its clients to local services.",
        discussion: """
            Keeps one command connection to home (reconnecting with exponential backoff and jitter), a warm pool \
            of authenticated data connections that adapts to the rate of new clients, and for each client a fresh \
            connection to the named service (optionally preceded by a PROXY protocol v2 header). No inbound port \
            is opened. home's certificate is pinned by its SHA-256 fingerprint in the config.

            The config file format is described in Sources/FWTunnel/CONFIG.md; the protocol in \
            Sources/FWTunnel/PROTOCOL.md.

            Signals: SIGTERM or SIGINT stops; SIGHUP is logged and ignored (restart to apply a changed config).

            Exit status: 0 stopped by a signal or config OK, 1 failed while running, 2 invalid config, 64 usage.
            """)

    @Option(name: .shortAndLong, help: "The config file (JSON).")
    var config: String = "/etc/fwtunnel/work.json"

    @Flag(help: "Check the config and secret, print a summary and exit.")
    var checkConfig = false

    @Flag(help: "Print the running process's status (the JSON its status socket answers, see CONFIG.md) and exit: 0 when it answered, 1 when it is not running.")
    var status = false

    @Option(help: "Log level: trace, debug, info, notice, warning, error, critical.")
    var logLevel: Logger.Level = .info

    func run() async throws {
        if status {
            let answer = StatusClient.answer(configPath: config) { try WorkConfig.load(path: $0).statusSocket }
            if let error = answer.error { Terminal.sayError(DisplayEscaping.escaped(error)) } else { try Terminal.writeResults(answer.output) }
            if answer.status != 0 { throw ExitCode(answer.status) }
            return
        }
        let path = config
        let status = await TunnelDaemonRunner.run(logger: GlobalOptions.bootstrapLogging(level: logLevel), checkOnly: checkConfig) { logger in
            try WorkAgent(config: try WorkConfig.load(path: path), logger: logger)
        }
        if status != 0 { throw ExitCode(status) }
    }
}

extension Logger.Level: @retroactive ExpressibleByArgument {}
