import CLibSSH2
import Foundation

/// What a command left behind.
public struct ExecResult: Sendable, Equatable {
    /// The exit status, or nil when the command was killed by a signal. A server that closes the channel without
    /// sending a status reads as 0: libssh2 1.10 cannot tell the two apart.
    public var status: Int32?
    /// The signal that killed the command, as the server names it ("TERM", "KILL"), or nil.
    public var signal: String?
    public var stdout: Data
    public var stderr: Data

    public init(status: Int32?, signal: String?, stdout: Data, stderr: Data) {
        self.status = status
        self.signal = signal
        self.stdout = stdout
        self.stderr = stderr
    }

    public var succeeded: Bool { status == 0 && signal == nil }
    public var stdoutText: String { String(decoding: stdout, as: UTF8.self) }
    public var stderrText: String { String(decoding: stderr, as: UTF8.self) }

    /// "exit status 3", "killed by signal TERM".
    public var outcomeDescription: String {
        if let signal { return "killed by signal \(signal)" }
        if let status { return "exit status \(status)" }
        return "no exit status"
    }
}

extension SSHSession {
    /// Runs `command` through the login shell of the target user, feeding `stdin` (then EOF; without stdin, EOF at
    /// once), and returns its output and exit status. stdout and stderr are read in the same loop as stdin is
    /// written, so no amount of output on either stream can block the other.
    ///
    /// `timeout` (default `options.commandTimeout`, always within the session deadline) ends the wait with a
    /// `.timeout` error. The channel is then closed, but the remote process may keep running until it next writes
    /// (SSH has no portable way to kill it): wrap long commands in `timeout(1)` on the host.
    public func exec(_ command: String, stdin: Data? = nil, timeout: Duration? = nil) throws -> ExecResult {
        let budget = timeout ?? options.commandTimeout
        let deadline = self.deadline.capped(after: budget)
        let channel = try openChannel(.exec, until: deadline)
        let shown = Self.abbreviated(command)
        do {
            let length = UInt32(command.utf8.count)
            let rc = try retry(.exec, until: deadline) { libssh2_channel_process_startup(channel, "exec", 4, command, length) }
            if rc != 0 {
                throw SSHError(.exec, host: hostName, "the server refused to start `\(shown)`: \(LibSSH2.describe(rc, raw))")
            }
            let output = try pump(channel, input: stdin, step: .exec, until: deadline, what: shown)
            let exit = try finish(channel, step: .exec, until: deadline, what: shown)
            log.trace("ran `\(shown)`: \(exit.status.map { "status \($0)" } ?? exit.signal ?? "?")")
            return ExecResult(status: exit.status, signal: exit.signal, stdout: output.stdout, stderr: output.stderr)
        } catch var error as SSHError {
            abandon(channel)
            if error.step == .timeout {
                // Name the bound that ended the wait: the command's own timeout, or what was left of the host's.
                let within = deadline == self.deadline ? "what was left of the per-host timeout" : budget.humanReadable
                error.message = "`\(shown)` did not finish within \(within); it may still be running on the host"
            }
            throw error
        }
    }

    // MARK: Channel plumbing shared by exec and SCP

    func openChannel(_ step: SSHError.Step, until deadline: Deadline) throws -> OpaquePointer {
        if let brokenReason { throw SSHError(step, host: hostName, "the connection is no longer usable: \(brokenReason)") }
        let channel = try retryPointer(step, until: deadline) {
            libssh2_channel_open_ex(raw, "session", 7, LibSSH2.channelWindow, UInt32(LIBSSH2_CHANNEL_PACKET_DEFAULT), nil, 0)
        }
        guard let channel else {
            throw SSHError(step, host: hostName, "the server refused a new channel: \(LibSSH2.lastError(raw).message) (MaxSessions?)")
        }
        return channel
    }

    struct ChannelOutput {
        var stdout = Data()
        var stderr = Data()
    }

    /// Writes `input` (then EOF) while reading both streams, until the server sends EOF.
    func pump(_ channel: OpaquePointer, input: Data?, step: SSHError.Step, until deadline: Deadline, what: String) throws -> ChannelOutput {
        var output = ChannelOutput()
        var written = 0
        var eofSent = false
        let bufferSize = 256 * 1024
        let buffer = UnsafeMutablePointer<CChar>.allocate(capacity: bufferSize)
        defer { buffer.deallocate() }

        // libssh2 rule: a call that returned EAGAIN while its packet was half sent must be repeated, with the same
        // arguments, before any other call that sends, or that other call fails (LIBSSH2_ERROR_BAD_USE, "Unable to
        // send transfer-window adjustment packet"). A write sends channel data; a read may send a window
        // adjustment. Seen through a jump host's socketpair, whose buffers fill quickly. `blocked` is the call to
        // repeat; the repeated call reads incoming packets itself, so nothing stalls meanwhile.
        enum Blocked { case write, eof, read(Int32) }
        var blocked: Blocked?
        func sendIsPending() -> Bool { libssh2_session_block_directions(raw) & LIBSSH2_SESSION_BLOCK_OUTBOUND != 0 }

        /// One read of `stream`: true if it gave data. Sets `blocked` when its window adjustment is half sent.
        func read(_ stream: Int32) throws -> Bool {
            let n = libssh2_channel_read_ex(channel, stream, buffer, bufferSize)
            if n > 0 {
                let bytes = UnsafeRawBufferPointer(start: buffer, count: n)
                if stream == 0 { output.stdout.append(contentsOf: bytes) } else { output.stderr.append(contentsOf: bytes) }
                return true
            }
            if Int32(n) == LibSSH2.eagain {
                if sendIsPending() { blocked = .read(stream) }
                return false
            }
            if n < 0 {
                noteIfBroken(Int32(n))
                throw SSHError(step, host: hostName, "reading the output of `\(what)` failed: \(LibSSH2.describe(Int32(n), raw))")
            }
            return false
        }

        /// One write of stdin (or its EOF): true if it made progress. Sets `blocked` when its packet is half sent.
        func writeInput() throws -> Bool {
            guard let input, written < input.count else {
                let rc = libssh2_channel_send_eof(channel)
                if rc != LibSSH2.eagain { eofSent = true; return true }
                if sendIsPending() { blocked = .eof }
                return false
            }
            let n = input.withUnsafeBytes { bytes in
                libssh2_channel_write_ex(channel, 0, bytes.baseAddress!.advanced(by: written).assumingMemoryBound(to: CChar.self),
                                         min(bytes.count - written, 1 << 20))
            }
            if n > 0 {
                written += n
                return true
            }
            if Int32(n) == LibSSH2.eagain {
                if sendIsPending() { blocked = .write }
                return false
            }
            if n < 0 {
                guard Self.meansStdinClosed(Int32(n)) else {
                    noteIfBroken(Int32(n))
                    throw SSHError(step, host: hostName, "writing the input of `\(what)` failed: \(LibSSH2.describe(Int32(n), raw))")
                }
                // The command stopped reading stdin (exited or closed it): the rest is not wanted.
                log.debug("stdin of `\(what)` closed by the host after \(written) of \(input.count) bytes")
                written = input.count
                return true
            }
            return false
        }

        while true {
            var progressed = false
            if let call = blocked {
                blocked = nil
                switch call {
                case .write, .eof: progressed = try writeInput()
                case .read(let stream): progressed = try read(stream)
                }
                if blocked != nil {
                    try waitSocket(step, until: deadline)
                    continue
                }
            }
            if !eofSent {
                if try writeInput() { progressed = true }
                if blocked != nil {
                    try waitSocket(step, until: deadline)
                    continue
                }
            }
            streams: for stream in [Int32(0), Int32(SSH_EXTENDED_DATA_STDERR)] {
                // Drain a stream for a while, then give the other one (and stdin) a turn.
                for _ in 0..<16 {
                    guard try read(stream) else { break }
                    progressed = true
                }
                if blocked != nil { break streams }
            }
            if blocked != nil {
                try waitSocket(step, until: deadline)
                continue
            }
            if output.stdout.count > options.maxOutputBytes || output.stderr.count > options.maxOutputBytes {
                throw SSHError(step, host: hostName, "`\(what)` wrote more than \(options.maxOutputBytes) bytes on one stream; stopped reading")
            }
            if libssh2_channel_eof(channel) == 1 && !progressed { return output }
            if !progressed { try waitSocket(step, until: deadline) }
        }
    }

    /// Errors of a stdin write that mean the command no longer reads it (it exited, or the channel is closing).
    static func meansStdinClosed(_ rc: Int32) -> Bool {
        rc == LIBSSH2_ERROR_CHANNEL_CLOSED || rc == LIBSSH2_ERROR_CHANNEL_EOF_SENT || rc == LIBSSH2_ERROR_CHANNEL_FAILURE
    }

    /// Closes the channel, waits for the server's close, then reads the exit status and signal (only now are they
    /// final: before the close `get_exit_status` reads 0) and frees the channel. A channel that never closed (the
    /// connection failed after the command's output ended) is an error: its exit status would read as 0.
    func finish(_ channel: OpaquePointer, step: SSHError.Step, until deadline: Deadline, what: String) throws -> (status: Int32?, signal: String?) {
        var rc = try retry(step, until: deadline) { libssh2_channel_close(channel) }
        if rc == 0 { rc = try retry(step, until: deadline) { libssh2_channel_wait_closed(channel) } }
        if rc != 0 {
            noteIfBroken(rc)
            throw SSHError(step, host: hostName, "the connection failed before `\(what)` reported its exit status: \(LibSSH2.describe(rc, raw)); it may or may not have finished on the host")
        }
        var signalPointer: UnsafeMutablePointer<CChar>?
        var signalLength = 0
        var signal: String?
        if libssh2_channel_get_exit_signal(channel, &signalPointer, &signalLength, nil, nil, nil, nil) == 0, let signalPointer {
            if signalLength > 0 {
                signal = String(decoding: UnsafeRawBufferPointer(start: signalPointer, count: signalLength), as: UTF8.self)
            }
            libssh2_free(raw, signalPointer)
        }
        let status = libssh2_channel_get_exit_status(channel)
        _ = try retry(step, until: deadline) { libssh2_channel_free(channel) }
        return (signal == nil ? status : nil, signal)
    }

    /// Drops a channel after an error or timeout without waiting for the command. libssh2 1.10's channel close
    /// waits for the server's CLOSE, which sshd sends only once the command has exited; so the CLOSE is sent, a
    /// short grace period allowed, and a channel still open after that is left to libssh2, which frees it with the
    /// session. The session stays usable: channels are independent, and the server can queue at most one window
    /// (2 MiB) of the abandoned command's output before it has to stop.
    func abandon(_ channel: OpaquePointer) {
        let grace = Deadline.after(.milliseconds(200))
        do {
            noteIfBroken(try retry(.exec, until: grace) { libssh2_channel_close(channel) })
            _ = try retry(.exec, until: grace) { libssh2_channel_free(channel) }
        } catch {
            log.debug("left a channel whose command is still running to be freed with the session")
        }
    }

    /// Remembers a failure of the transport itself (as opposed to one request failing), so that later calls on
    /// this session fail at once with its reason.
    func noteIfBroken(_ rc: Int32) {
        guard brokenReason == nil, LibSSH2.isConnectionError(rc) else { return }
        brokenReason = LibSSH2.describe(rc, raw)
    }

    static func abbreviated(_ command: String) -> String {
        let oneLine = command.replacingOccurrences(of: "\n", with: "; ")
        return oneLine.count <= 120 ? oneLine : String(oneLine.prefix(117)) + "..."
    }
}
