import FoundationEssentials
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// stdout could not take the results (a full disk, a closed pipe): the command fails with exit 1 and this reason.
public struct StdoutWriteError: Error, CustomStringConvertible {
    public var reason: String
    public var description: String { "cannot write the results to stdout: \(reason)" }
}

/// The process's terminal: results to stdout, messages to stderr, each line of a message prefixed with the
/// program's name. Colour only on a TTY, never with NO_COLOR (https://no-color.org) or TERM=dumb.
public enum Terminal {
    public static let stderrSupportsColour: Bool = supportsColour(fd: 2)
    public static let stdoutSupportsColour: Bool = supportsColour(fd: 1)
    public static let stderrIsTTY: Bool = isatty(2) == 1

    /// The name messages start with: the running executable's file name (`fwctl`, `fwtunnel-home`), so every
    /// executable built on this library names itself without saying so.
    public static let programName: String = {
        var buffer = [CChar](repeating: 0, count: 4096)
        let count = readlink("/proc/self/exe", &buffer, buffer.count - 1)
        let path = count > 0 ? String(decoding: buffer[0..<count].map { UInt8(bitPattern: $0) }, as: UTF8.self)
            : CommandLine.arguments.first ?? "fwctl"
        return path.split(separator: "/").last.map(String.init) ?? path
    }()

    private static func supportsColour(fd: Int32) -> Bool {
        guard isatty(fd) == 1 else { return false }
        if let noColour = getenv("NO_COLOR"), noColour.pointee != 0 { return false }
        if let term = getenv("TERM"), String(cString: term) == "dumb" { return false }
        return true
    }

    public enum Colour: String, Sendable {
        case red = "31", yellow = "33", green = "32", dim = "2", bold = "1"
    }

    public static func paint(_ text: String, _ colour: Colour, enabled: Bool) -> String {
        enabled ? "\u{1B}[\(colour.rawValue)m\(text)\u{1B}[0m" : text
    }

    /// Writes straight to stderr, unbuffered, so progress and errors interleave correctly with stdout.
    public static func writeStderr(_ text: String) {
        _ = Array(text.utf8).withUnsafeBufferPointer { writeAll(fd: 2, $0) }
    }

    /// One line on stderr: `fwctl: message`.
    public static func say(_ message: String) {
        writeStderr("\(programName): \(message)\n")
    }

    /// One error line on stderr: `fwctl: error: message`, `error:` in red on a colour terminal.
    public static func sayError(_ message: String) {
        say(paint("error: ", .red, enabled: stderrSupportsColour) + message)
    }

    /// Writes a command's results to stdout, exactly these bytes and unbuffered; throws (exit 1, with the reason)
    /// when they cannot all be written, so `fwctl render > summary.txt` on a full disk does not end as a success.
    public static func writeResults(_ bytes: [UInt8]) throws {
        try bytes.withUnsafeBufferPointer { try writeResults($0) }
    }

    /// Result bytes straight from a buffer someone else owns (a rendered template), without a copy.
    public static func writeResults(_ bytes: UnsafeBufferPointer<UInt8>) throws {
        guard writeAll(fd: 1, bytes) else { throw StdoutWriteError(reason: String(cString: strerror(errno))) }
    }

    public static func writeResults(_ text: String) throws {
        try writeResults(Array(text.utf8))
    }

    /// What every `--json` prints: pretty, keys sorted (stable for diffs and golden files), slashes as they are,
    /// one trailing newline.
    public static func json(_ value: some Encodable) throws -> [UInt8] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        return Array(try encoder.encode(value)) + [0x0A]
    }

    /// `json(value)` on stdout.
    public static func writeJSON(_ value: some Encodable) throws {
        try writeResults(json(value))
    }

    private static func writeAll(fd: Int32, _ bytes: UnsafeBufferPointer<UInt8>) -> Bool {
        var offset = 0
        while offset < bytes.count {
            let n = write(fd, bytes.baseAddress! + offset, bytes.count - offset)
            if n <= 0 { if n < 0 && errno == EINTR { continue }; return false }
            offset += n
        }
        return true
    }
}
