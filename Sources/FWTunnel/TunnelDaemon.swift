import Logging

/// What both daemons are to their command-line frame.
public protocol TunnelDaemon: Sendable {
    /// What --check-config prints: the config as understood, never the secret.
    var checkSummary: String { get }
    func start() async throws
    func shutdown() async
    /// SIGHUP.
    func reload()
}

extension HomeServer: TunnelDaemon {
    public func reload() { reloadAllowlists() }
}

extension WorkAgent: TunnelDaemon {
    /// work has nothing to reread on SIGHUP: its config changes need a restart.
    public func reload() { logger.notice("SIGHUP ignored: restart fwtunnel-work to apply a changed config") }
}

/// The daemons' run frame: loads (exit 2 on a bad config), checks or runs until SIGTERM or SIGINT (exit 1 if it
/// cannot start), logging to `logger` (the executable sets up logging, as every fwctl executable does). Returns
/// the exit status.
public enum TunnelDaemonRunner {
    public static func run(logger: Logger, checkOnly: Bool,
                           load: (Logger) throws -> TunnelDaemon) async -> Int32 {
        ProcessSignals.ignoreBrokenPipes()
        let daemon: TunnelDaemon
        do {
            daemon = try load(logger)
        } catch {
            logger.error("\(error)")
            return 2
        }
        if checkOnly {
            print(daemon.checkSummary)
            await daemon.shutdown()
            return 0
        }
        do {
            try await daemon.start()
        } catch {
            logger.error("cannot start: \(error)")
            await daemon.shutdown()
            return 1
        }
        let signal = await ProcessSignals.waitForTermination { daemon.reload() }
        logger.notice("stopping", metadata: ["signal": "\(signal)"])
        await daemon.shutdown()
        return 0
    }
}
