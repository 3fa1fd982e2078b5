import CLibSSH2
#if canImport(Glibc)
import Glibc
#endif

/// Process-wide libssh2 state and small helpers around its C conventions.
enum LibSSH2 {
    /// `libssh2_init` is not thread-safe and `libssh2_session_init_ex` calls it implicitly when it was forgotten,
    /// which races when hosts connect in parallel. A `static let` is initialised exactly once, atomically, so every
    /// session creation goes through `ensureInitialised()` first.
    private static let initStatus: Int32 = {
        let rc = libssh2_init(0)
        if rc == 0 { atexit { libssh2_exit() } }
        return rc
    }()

    static func ensureInitialised() -> Bool { initStatus == 0 }

    /// The session's last error as (code, message); the message is libssh2's own text.
    static func lastError(_ session: OpaquePointer) -> (code: Int32, message: String) {
        var pointer: UnsafeMutablePointer<CChar>?
        var length: Int32 = 0
        let code = libssh2_session_last_error(session, &pointer, &length, 0)
        guard let pointer, length > 0 else { return (code, "libssh2 error \(code)") }
        let bytes = UnsafeRawBufferPointer(start: pointer, count: Int(length))
        return (code, String(decoding: bytes, as: UTF8.self))
    }

    /// Describes a libssh2 return code together with the session's last message. libssh2 returns the socket
    /// errors without setting a message, so those are named here.
    static func describe(_ rc: Int32, _ session: OpaquePointer) -> String {
        let last = lastError(session)
        if last.code == rc { return "\(last.message) (libssh2 \(rc))" }
        switch rc {
        case LIBSSH2_ERROR_SOCKET_RECV: return "the server closed or reset the connection (libssh2 \(rc))"
        case LIBSSH2_ERROR_SOCKET_DISCONNECT: return "the server closed the connection (libssh2 \(rc))"
        case LIBSSH2_ERROR_SOCKET_SEND: return "sending on the connection failed (libssh2 \(rc))"
        default: return "libssh2 error \(rc)"
        }
    }

    static let eagain = LIBSSH2_ERROR_EAGAIN

    /// LIBSSH2_CHANNEL_WINDOW_DEFAULT, which does not import into Swift (a function-like expression in the header).
    static let channelWindow: UInt32 = 2 * 1024 * 1024

    /// Codes after which the transport is gone (as opposed to one request failing).
    static func isConnectionError(_ rc: Int32) -> Bool {
        rc == LIBSSH2_ERROR_SOCKET_DISCONNECT || rc == LIBSSH2_ERROR_SOCKET_SEND || rc == LIBSSH2_ERROR_SOCKET_RECV
            || rc == LIBSSH2_ERROR_SOCKET_TIMEOUT || rc == LIBSSH2_ERROR_TIMEOUT
    }
}
