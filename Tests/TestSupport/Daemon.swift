import CFWSystem
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// A long-running child (sshd, ssh-agent, fwtunnel-home/-work) started with posix_spawn rather than Foundation's Process.
///
/// sshd and ssh-agent close every inherited descriptor at startup, including the one Foundation watches to learn
/// that a child exited; Foundation then calls a blocking wait4() on the still-running daemon from its one reaper
/// thread, and every other Process in the test run stops being reaped. posix_spawn keeps Foundation out of it.
public final class Daemon: @unchecked Sendable {
    // @unchecked: pid is immutable; stop() is called once, by the owning fixture.
    public let pid: pid_t

    /// Starts `executable` with stdin and stdout on /dev/null and stderr appended to `logPath`, and no other
    /// descriptor of the test process.
    public init(_ executable: String, _ arguments: [String], logPath: String) throws {
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 2, logPath, O_WRONLY | O_CREAT | O_APPEND, 0o600)
        // Nothing else of the test process: a daemon holding another test's pipe open (the write end of an ssh
        // client's stdin) would keep that reader from ever seeing its end.
        _ = fw_spawn_close_from(&actions, 3)
        // The test runner's threads block signals, and a spawned child inherits the mask: ssh-agent would then
        // ignore SIGTERM. Start the child with nothing blocked and default handlers.
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var noSignals = sigset_t()
        sigemptyset(&noSignals)
        var allSignals = sigset_t()
        sigfillset(&allSignals)
        posix_spawnattr_setsigmask(&attributes, &noSignals)
        posix_spawnattr_setsigdefault(&attributes, &allSignals)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF))
        let argv = ([executable] + arguments).map { strdup($0) } + [nil]
        defer { argv.forEach { free($0) } }
        var child: pid_t = 0
        let rc = posix_spawn(&child, executable, &actions, &attributes, argv, environ)
        guard rc == 0 else { throw ProcessRunnerError(description: "cannot start \(executable): \(String(cString: strerror(rc)))") }
        pid = child
    }

    public var isRunning: Bool {
        var status: Int32 = 0
        return waitpid(pid, &status, WNOHANG) == 0
    }

    /// Sends `signal` (SIGHUP to reload, SIGKILL to simulate a crash) if the child still runs.
    public func send(_ signal: Int32) {
        var status: Int32 = 0
        if waitpid(pid, &status, WNOHANG) == 0 { kill(pid, signal) }
    }

    /// SIGTERM, then SIGKILL after 5 s; always reaps the child. Returns its exit status when it exited by itself
    /// after the SIGTERM (nil when it had already been reaped, died of a signal or needed the SIGKILL).
    @discardableResult
    public func stop() -> Int32? {
        var status: Int32 = 0
        if waitpid(pid, &status, WNOHANG) != 0 { return nil }
        kill(pid, SIGTERM)
        let until = Date().addingTimeInterval(5)
        while Date() < until {
            if waitpid(pid, &status, WNOHANG) != 0 {
                // WIFEXITED / WEXITSTATUS, which Swift does not import.
                return status & 0x7f == 0 ? (status >> 8) & 0xff : nil
            }
            usleep(10_000)
        }
        kill(pid, SIGKILL)
        _ = waitpid(pid, &status, 0)
        return nil
    }
}
