import ArgumentParser
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

            Signals: SIGTERM or SIGINT stops.

            Exit status: 0 stopped by a signal or config OK, 1 failed while running, 2 invalid config, 64 usage.
            """)

    @Option(name: .shortAndLong, help: "The config file (JSON).")
    var config: String = "/etc/fwtunnel/work.json"

    @Flag(help: "Check the config and secret, print a summary and exit.")
    var checkConfig = false

    @Option(help: "Log level: trace, debug, info, notice, warning, error, critical.")
    var logLevel: Logger.Level = .info

    func run() async throws {
        let level = logLevel
        LoggingSystem.bootstrap { label in
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = level
            return handler
        }
        let logger = Logger(label: "fwtunnel-work")
        let work: WorkAgent
        do {
            work = try WorkAgent(config: try WorkConfig.load(path: config), logger: logger)
            if checkConfig {
                print(work.checkSummary)
                await work.shutdown()
                return
            }
        } catch {
            logger.error("\(error)")
            throw ExitCode(2)
        }
        do {
            try await work.start()
        } catch {
            logger.error("cannot start: \(error)")
            throw ExitCode(1)
        }
        let signal = await ProcessSignals.waitForTermination {}
        logger.notice("stopping", metadata: ["signal": "\(signal)"])
        await work.shutdown()
    }
}

extension Logger.Level: @retroactive ExpressibleByArgument {}
