import CLibSSH2
import FWBase
import Foundation

/// How a file reached the host.
public enum UploadMethod: String, Sendable {
    case sftp, scp
}

extension SSHSession {
    /// Writes the file's bytes to its path on the host with exactly its mode, atomically: the bytes go to a new temporary file in
    /// the same directory (SFTP, or SCP where the server has no SFTP subsystem), get their mode set explicitly (an
    /// open mode would not change an existing file's, and the umask would trim it), are synced to disk (SFTP only,
    /// with fsync@openssh.com where the server has it; SCP has no such step), and then `mv -f -T` renames the file
    /// over `path`. Readers see the old file or the new one, never a half-written one.
    @discardableResult
    public func upload(_ file: FileBytes, timeout: Duration? = nil) throws -> UploadMethod {
        let path = file.path, mode = file.mode, data = Data(file.bytes)
        let deadline = self.deadline.capped(after: timeout ?? options.commandTimeout)
        guard !path.isEmpty, !path.hasSuffix("/"), !path.utf8.contains(0), !path.contains("\n") else {
            throw SSHError(.upload, host: hostName, "\(path.debugDescription) is not a file path")
        }
        guard mode <= 0o7777 else {
            throw SSHError(.upload, host: hostName, "mode \(String(mode, radix: 8)) is not a file mode (at most 7777)")
        }
        let slash = path.lastIndex(of: "/")
        let directory = slash.map { String(path[...$0]) } ?? ""
        let base = slash.map { String(path[path.index(after: $0)...]) } ?? path
        let temporary = "\(directory).\(base).fwctl-\(Self.randomSuffix()).tmp"

        var method = UploadMethod.sftp
        do {
            if let sftp = try sftpHandle(until: deadline) {
                try writeWithSFTP(sftp, data, to: temporary, mode: mode, until: deadline)
            } else {
                method = .scp
                try writeWithSCP(data, to: temporary, mode: mode, until: deadline)
            }
            let move = try exec("mv -f -T -- \(Self.shellQuoted(temporary)) \(Self.shellQuoted(path))",
                                timeout: deadline.remaining)
            guard move.succeeded else {
                throw SSHError(.upload, host: hostName, "renaming the uploaded file onto \(path) failed (\(move.outcomeDescription)): \(move.stderrText.trimmingCharacters(in: .whitespacesAndNewlines))")
            }
        } catch var error as SSHError {
            removeQuietly(temporary)
            if error.step == .exec { error.step = .upload }
            if error.step == .timeout { error.during = .upload; error.message = "uploading \(data.count) bytes to \(path) did not finish in time" }
            throw error
        }
        log.debug("uploaded \(data.count) bytes to \(path) mode \(String(mode, radix: 8)) via \(method.rawValue)")
        return method
    }

    // MARK: SFTP

    /// The session's SFTP handle, opened on first use; nil when the server has no SFTP subsystem.
    private func sftpHandle(until deadline: Deadline) throws -> OpaquePointer? {
        if let sftp { return sftp }
        if sftpUnavailableReason != nil { return nil }
        if let handle = try retryPointer(.upload, until: deadline, { libssh2_sftp_init(raw) }) {
            sftp = handle
            return handle
        }
        let reason = LibSSH2.lastError(raw).message
        sftpUnavailableReason = reason
        log.debug("SFTP is not available (\(reason)); uploading with SCP")
        return nil
    }

    private func writeWithSFTP(_ sftp: OpaquePointer, _ data: Data, to path: String, mode: UInt32, until deadline: Deadline) throws {
        let flags = UInt(LIBSSH2_FXF_WRITE | LIBSSH2_FXF_CREAT | LIBSSH2_FXF_EXCL | LIBSSH2_FXF_TRUNC)
        let length = UInt32(path.utf8.count)
        let handle = try retryPointer(.upload, until: deadline) {
            libssh2_sftp_open_ex(sftp, path, length, flags, Int(mode), LIBSSH2_SFTP_OPENFILE)
        }
        guard let handle else { throw sftpError(sftp, "cannot create \(path)") }
        var closed = false
        defer { if !closed { _ = try? retry(.upload, until: .after(.seconds(1))) { libssh2_sftp_close_handle(handle) } } }

        var offset = 0
        while offset < data.count {
            // On EAGAIN libssh2 wants the same buffer again; `offset` only moves on success, so it gets it.
            let n = data.withUnsafeBytes { bytes in
                libssh2_sftp_write(handle, bytes.baseAddress!.advanced(by: offset).assumingMemoryBound(to: CChar.self),
                                   min(bytes.count - offset, 1 << 20))
            }
            if n >= 0 { offset += n; continue }
            if Int32(n) != LibSSH2.eagain { throw sftpError(sftp, "writing \(path) failed") }
            try waitSocket(.upload, until: deadline)
        }
        var attributes = LIBSSH2_SFTP_ATTRIBUTES()
        attributes.flags = UInt(LIBSSH2_SFTP_ATTR_PERMISSIONS)
        attributes.permissions = UInt(mode)
        let rc = try retry(.upload, until: deadline) { libssh2_sftp_fstat_ex(handle, &attributes, 1) }
        if rc != 0 { throw sftpError(sftp, "setting mode \(String(mode, radix: 8)) on \(path) failed") }
        // fsync@openssh.com: the file is on disk before it replaces the old one. Servers without it are fine.
        _ = try retry(.upload, until: deadline) { libssh2_sftp_fsync(handle) }
        let closeRC = try retry(.upload, until: deadline) { libssh2_sftp_close_handle(handle) }
        closed = true
        if closeRC != 0 { throw sftpError(sftp, "closing \(path) failed") }
    }

    private func sftpError(_ sftp: OpaquePointer, _ what: String) -> SSHError {
        let code = libssh2_session_last_errno(raw) == LIBSSH2_ERROR_SFTP_PROTOCOL ? UInt(libssh2_sftp_last_error(sftp)) : 0
        let reason: String
        switch code {
        case LIBSSH2_FX_NO_SUCH_FILE, LIBSSH2_FX_NO_SUCH_PATH: reason = "no such directory"
        case LIBSSH2_FX_PERMISSION_DENIED: reason = "permission denied"
        case LIBSSH2_FX_FILE_ALREADY_EXISTS: reason = "a file of that name already exists"
        case LIBSSH2_FX_NO_SPACE_ON_FILESYSTEM, LIBSSH2_FX_QUOTA_EXCEEDED: reason = "no space left"
        case 0: reason = LibSSH2.lastError(raw).message
        default: reason = "SFTP status \(code)"
        }
        return SSHError(.upload, host: hostName, "\(what): \(reason)")
    }

    // MARK: SCP

    private func writeWithSCP(_ data: Data, to path: String, mode: UInt32, until deadline: Deadline) throws {
        // Non-zero times make libssh2 run `scp -p -t`, which sets the exact mode rather than mode & ~umask.
        let now = time(nil)
        let channel = try retryPointer(.upload, until: deadline) {
            libssh2_scp_send64(raw, path, Int32(mode & 0o777), Int64(data.count), now, now)
        }
        guard let channel else {
            throw SSHError(.upload, host: hostName, "SCP to \(path) was refused: \(LibSSH2.lastError(raw).message)")
        }
        let result: ExecResult
        do {
            // The SCP protocol ends a file with one zero byte; without it the remote scp exits 1.
            var payload = data
            payload.append(0)
            let output = try pump(channel, input: payload, step: .upload, until: deadline, what: "scp -t \(path)")
            let exit = try finish(channel, step: .upload, until: deadline, what: "scp -t \(path)")
            result = ExecResult(status: exit.status, signal: exit.signal, stdout: output.stdout, stderr: output.stderr)
        } catch {
            abandon(channel)  // only here: once finish has returned, the channel is freed
            throw error
        }
        guard result.succeeded else {
            let said = String(decoding: result.stdout.filter { $0 >= 0x20 } + result.stderr, as: UTF8.self)
            throw SSHError(.upload, host: hostName, "scp to \(path) failed (\(result.outcomeDescription)): \(said.trimmingCharacters(in: .whitespacesAndNewlines))")
        }
        if mode & 0o7000 != 0 {
            let chmod = try exec("chmod \(String(mode, radix: 8)) -- \(Self.shellQuoted(path))", timeout: deadline.remaining)
            guard chmod.succeeded else { throw SSHError(.upload, host: hostName, "chmod on \(path) failed: \(chmod.stderrText)") }
        }
    }

    /// Best effort: a temporary file must not be left behind after a failure.
    private func removeQuietly(_ path: String) {
        guard brokenReason == nil, !deadline.hasPassed else { return }
        _ = try? exec("rm -f -- \(Self.shellQuoted(path))", timeout: .seconds(5))
    }

    // MARK: Helpers

    /// `'...'` with embedded single quotes spliced in: safe for any byte string except NUL.
    public static func shellQuoted(_ text: String) -> String {
        "'" + text.replacingOccurrences(of: "'", with: "'\\''") + "'"
    }

    static func randomSuffix() -> String {
        var generator = SystemRandomNumberGenerator()
        return String(generator.next() as UInt64, radix: 16)
    }
}
