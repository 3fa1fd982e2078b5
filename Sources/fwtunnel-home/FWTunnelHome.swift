import ArgumentParser
import FWBase
import FWCommandLine
import FWTunnel
import Logging
#if canImport(Glibc)
import Glibc
#endif

/// The command-line frame of fwtunnel-home: options, logging, exit statuses. The tunnel itself is FWTunnel.
@main
struct FWTunnelHome: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "fwtunnel-home",
        abstract: "The outside end of fwctl's reverse tunnel: clients connect here, work agents dial in.",
        discussion: """
            Listens on each service's client port and on the agent port. A client whose address is in the allowlist \
            is linked to a data connection from a work agent serving that service; others are closed before a \
            byte is read. Every agent connection proves the shared secret (HMAC-SHA256 over a fresh nonce) and is \
            TLS 1.3 unless the config says "tls": false.

            The config file format is described in Sources/FWTunnel/CONFIG.md; the protocol in \
            Sources/FWTunnel/PROTOCOL.md.

            Signals: SIGHUP rereads the allowlist files (a bad file keeps the previous list; live sessions stay); \
            SIGTERM or SIGINT stops.

            Exit status: 0 stopped by a signal or config OK, 1 failed while running, 2 invalid config, 64 usage.
            """)

    @Option(name: .shortAndLong, help: "The config file (JSON).")
    var config: String = "/etc/fwtunnel/home.json"

    @Flag(help: "Check the config, secret, allowlists and certificate, print a summary and exit.")
    var checkConfig = false

    @Flag(help: "Print the SHA-256 fingerprint of the configured TLS certificate (for work's tls.fingerprint) and exit.")
    var printFingerprint = false

    @Flag(help: "Print the running process's status (the JSON its status socket answers, see CONFIG.md) and exit: 0 when it answered, 1 when it is not running.")
    var status = false

    @Option(help: ArgumentHelp(
        "Test the running tunnel end to end through SERVICE's probe socket (a client connection that skips the allowlist; only root can open it), print the outcome as JSON and exit: 0 when the service answered or stayed connected, 1 otherwise.",
        valueName: "service"))
    var probe: String?

    @Option(help: "Log level: trace, debug, info, notice, warning, error, critical.")
    var logLevel: Logger.Level = .info

    func run() async throws {
        if status {
            let answer = StatusClient.answer(configPath: config) { try HomeConfig.load(path: $0).statusSocket }
            if let error = answer.error { Terminal.sayError(DisplayEscaping.escaped(error)) } else { try Terminal.writeResults(answer.output) }
            if answer.status != 0 { throw ExitCode(answer.status) }
            return
        }
        if let probe {
            let loaded: HomeConfig
            do { loaded = try HomeConfig.load(path: config) } catch {
                Terminal.sayError(DisplayEscaping.escapedKeepingLineFeeds("\(error)"))
                throw ExitCode(ExitStatus.invalidInput)
            }
            guard let service = loaded.services.first(where: { $0.name == probe }), let socket = service.probeSocket else {
                Terminal.sayError("\(config): no service \(DisplayEscaping.quotedName(probe)) with a probeSocket")
                throw ExitCode(ExitStatus.invalidInput)
            }
            // Longer than home lets a client wait for an agent: a connection still open then was linked.
            let outcome = ProbeClient.probe(service: probe, socket: socket, wait: loaded.clientWait + 2)
            try Terminal.writeJSON(outcome)
            if !outcome.ok { throw ExitCode(1) }
            return
        }
        if printFingerprint {
            do {
                let loaded = try HomeConfig.load(path: config)
                guard let tls = loaded.tls else { throw ConfigError(file: config, "tls is false: there is no certificate") }
                print(Fingerprint.format(try TunnelTLS.fingerprint(ofPEMFile: tls.certificate)))
                return
            } catch {
                Terminal.sayError(DisplayEscaping.escapedKeepingLineFeeds("\(error)"))
                throw ExitCode(ExitStatus.invalidInput)
            }
        }
        let path = config
        let status = await TunnelDaemonRunner.run(logger: GlobalOptions.bootstrapLogging(level: logLevel), checkOnly: checkConfig) { logger in
            try HomeServer(config: try HomeConfig.load(path: path), logger: logger)
        }
        if status != 0 { throw ExitCode(status) }
    }
}

extension Logger.Level: @retroactive ExpressibleByArgument {}
