import CFWSystem
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// What a finished command left: its exit status and its stdout and stderr together.
struct CommandOutput: Sendable {
    var status: Int32
    var output: String
    var succeeded: Bool { status == 0 }
}

/// Runs the system programs the lab is built with (ip, ssh-keygen, iptables-save, ...) through posix_spawn: the
/// child inherits the calling thread's network namespace, which `NamespaceThread` relies on. Every run is bounded.
enum LabProcess {
    static let environment = ["PATH=\(LabPaths.systemPath)", "LC_ALL=C"]

    /// Runs `arguments` (the first is a program name looked up in the system folders) to completion, feeding
    /// `input` on stdin; kills it after `timeout` seconds.
    static func run(_ arguments: [String], input: String? = nil, timeout: Double = 60) throws(LabError) -> CommandOutput {
        guard let program = LabPaths.program(arguments[0]) else {
            throw LabError("\(arguments[0]) is not installed", hint: "make deps-test installs what the lab needs")
        }
        var stdinPipe: [Int32] = [-1, -1], outPipe: [Int32] = [-1, -1]
        guard fw_pipe_cloexec(&outPipe) == 0, fw_pipe_cloexec(&stdinPipe) == 0 else {
            throw LabError("cannot create a pipe: \(String(cString: strerror(errno)))")
        }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_adddup2(&actions, stdinPipe[0], 0)
        posix_spawn_file_actions_adddup2(&actions, outPipe[1], 1)
        posix_spawn_file_actions_adddup2(&actions, outPipe[1], 2)
        let pid: pid_t
        do {
            pid = try spawn(program, arguments, actions: &actions, attributes: nil)
        } catch {
            for fd in stdinPipe + outPipe { close(fd) }
            throw error
        }
        close(stdinPipe[0])
        close(outPipe[1])
        _ = fcntl(stdinPipe[1], F_SETFL, fcntl(stdinPipe[1], F_GETFL) | O_NONBLOCK)
        let inputBytes = Array((input ?? "").utf8)
        let output = pump(input: inputBytes, stdinFD: stdinPipe[1], outputFD: outPipe[0], timeout: timeout, pid: pid)
        close(outPipe[0])
        let status = wait(for: pid)
        if output.timedOut {
            throw LabError("\(arguments.joined(separator: " ")) did not finish within \(Int(timeout)) s")
        }
        return CommandOutput(status: status, output: String(decoding: output.bytes, as: UTF8.self))
    }

    /// Like `run`, but throws with the command's output unless it exits 0.
    @discardableResult
    static func check(_ arguments: [String], input: String? = nil, timeout: Double = 60) throws(LabError) -> String {
        let result = try run(arguments, input: input, timeout: timeout)
        guard result.succeeded else {
            let text = result.output.trimmingCharacters(in: .whitespacesAndNewlines)
            throw LabError("\(arguments.prefix(6).joined(separator: " ")) failed (exit \(result.status)): \(text.suffix(2000))")
        }
        return result.output
    }

    /// Starts a daemon in a session of its own (so the terminal's ^C does not reach it), stdin from /dev/null and
    /// its output appended to `logFile`; returns its pid without waiting.
    static func spawnDaemon(_ arguments: [String], logFile: String) throws(LabError) -> pid_t {
        guard let program = LabPaths.program(arguments[0]) else { throw LabError("\(arguments[0]) is not installed") }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, logFile, O_WRONLY | O_CREAT | O_APPEND, 0o600)
        posix_spawn_file_actions_adddup2(&actions, 1, 2)
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        posix_spawnattr_setflags(&attributes, fw_spawn_setsid_flag())
        return try spawn(program, arguments, actions: &actions, attributes: &attributes)
    }

    private static func spawn(_ program: String, _ arguments: [String], actions: inout posix_spawn_file_actions_t,
                              attributes: UnsafeMutablePointer<posix_spawnattr_t>?) throws(LabError) -> pid_t {
        var argv: [UnsafeMutablePointer<CChar>?] = arguments.map { strdup($0) } + [nil]
        var envp: [UnsafeMutablePointer<CChar>?] = environment.map { strdup($0) } + [nil]
        defer {
            for pointer in argv { free(pointer) }
            for pointer in envp { free(pointer) }
        }
        // Only 0-2 reach the child: a daemon (a lab host's sshd) must not hold this process's other pipes open.
        _ = fw_spawn_close_from(&actions, 3)
        var pid: pid_t = 0
        let status = posix_spawn(&pid, program, &actions, attributes, &argv, &envp)
        guard status == 0 else { throw LabError("cannot start \(program): \(String(cString: strerror(status)))") }
        return pid
    }

    /// Writes the input and reads the output at the same time (neither pipe can fill and block the child).
    private static func pump(input: [UInt8], stdinFD: Int32, outputFD: Int32, timeout: Double, pid: pid_t)
        -> (bytes: [UInt8], timedOut: Bool) {
        let deadline = Date().addingTimeInterval(timeout)
        var output: [UInt8] = []
        var written = 0
        var stdinOpen = true
        if input.isEmpty { close(stdinFD); stdinOpen = false }
        var buffer = [UInt8](repeating: 0, count: 65536)
        while true {
            let remaining = deadline.timeIntervalSinceNow
            if remaining <= 0 {
                kill(pid, SIGKILL)
                if stdinOpen { close(stdinFD) }
                return (output, true)
            }
            var fds = [pollfd(fd: outputFD, events: Int16(POLLIN), revents: 0)]
            if stdinOpen { fds.append(pollfd(fd: stdinFD, events: Int16(POLLOUT), revents: 0)) }
            let ready = poll(&fds, nfds_t(fds.count), Int32(min(remaining, 1) * 1000))
            if ready < 0 && errno != EINTR { break }
            if stdinOpen && fds.count > 1 && fds[1].revents != 0 {
                let n = input.withUnsafeBytes { write(stdinFD, $0.baseAddress! + written, $0.count - written) }
                if n > 0 { written += n }
                if n < 0 && errno != EINTR && errno != EAGAIN || written == input.count {
                    close(stdinFD)
                    stdinOpen = false
                }
            }
            if fds[0].revents != 0 {
                let n = read(outputFD, &buffer, buffer.count)
                if n > 0 {
                    if output.count < 16 << 20 { output += buffer[0..<n] }
                } else if n == 0 || errno != EINTR {
                    break
                }
            }
        }
        if stdinOpen { close(stdinFD) }
        return (output, false)
    }

    /// Reaps a child and returns its exit status (128 + the signal when killed by one).
    static func wait(for pid: pid_t) -> Int32 {
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
        if status & 0x7F == 0 { return (status >> 8) & 0xFF }
        return 128 + (status & 0x7F)
    }
}
