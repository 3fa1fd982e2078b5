#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// What the terminal can show. Colour only on a TTY, never with NO_COLOR (https://no-color.org) or TERM=dumb.
struct StdoutWriteError: Error, CustomStringConvertible {
    var reason: String
    var description: String { "cannot write the results to stdout: \(reason)" }
}

enum Terminal {
    static let stderrSupportsColour: Bool = supportsColour(fd: 2)
    static let stdoutSupportsColour: Bool = supportsColour(fd: 1)
    static let stderrIsTTY: Bool = isatty(2) == 1

    private static func supportsColour(fd: Int32) -> Bool {
        guard isatty(fd) == 1 else { return false }
        if let noColour = getenv("NO_COLOR"), noColour.pointee != 0 { return false }
        if let term = getenv("TERM"), String(cString: term) == "dumb" { return false }
        return true
    }

    enum Colour: String {
        case red = "31", yellow = "33", green = "32", dim = "2", bold = "1"
    }

    static func paint(_ text: String, _ colour: Colour, enabled: Bool) -> String {
        enabled ? "\u{1B}[\(colour.rawValue)m\(text)\u{1B}[0m" : text
    }

    /// Writes straight to stderr, unbuffered, so progress and errors interleave correctly with stdout.
    static func writeStderr(_ text: String) {
        _ = writeAll(fd: 2, Array(text.utf8))
    }

    /// Writes a command's results to stdout, exactly these bytes and unbuffered; throws (exit 1, with the reason)
    /// when they cannot all be written, so `fwctl render > summary.txt` on a full disk does not end as a success.
    static func writeResults(_ bytes: [UInt8]) throws {
        guard writeAll(fd: 1, bytes) else { throw StdoutWriteError(reason: String(cString: strerror(errno))) }
    }

    static func writeResults(_ text: String) throws {
        try writeResults(Array(text.utf8))
    }

    private static func writeAll(fd: Int32, _ bytes: [UInt8]) -> Bool {
        var offset = 0
        while offset < bytes.count {
            let n = bytes.withUnsafeBytes { write(fd, $0.baseAddress! + offset, $0.count - offset) }
            if n <= 0 { if n < 0 && errno == EINTR { continue }; return false }
            offset += n
        }
        return true
    }
}
