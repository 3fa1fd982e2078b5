import Crypto
#if canImport(Glibc)
import Glibc
#endif

/// The shared secret, read from a file that only its owner may read or write (mode 0600 or stricter). Its
/// description never shows the value, so it cannot end up in a log.
public struct Secret: Sendable, CustomStringConvertible {
    let key: SymmetricKey

    public init(bytes: [UInt8]) {
        key = SymmetricKey(data: bytes)
    }

    public var description: String { "<secret>" }

    /// Reads the secret file: refused unless it is a regular file with no group or other permissions, and at least
    /// 16 bytes long (surrounding whitespace is ignored, so `openssl rand -hex 32 > file` works).
    public static func load(path: String) throws -> Secret {
        var info = stat()
        guard stat(path, &info) == 0 else {
            throw ConfigError(file: path, "cannot read the secret file: \(String(cString: strerror(errno)))")
        }
        guard (info.st_mode & S_IFMT) == S_IFREG else { throw ConfigError(file: path, "the secret file is not a regular file") }
        let mode = info.st_mode & 0o777
        guard mode & 0o077 == 0 else {
            throw ConfigError(file: path, "the secret file has mode \(String(mode, radix: 8)); it must be 0600 (run: chmod 600 \(path))")
        }
        let bytes = try readFile(path)
        let trimmed = bytes.drop { isSpace($0) }.reversed().drop { isSpace($0) }.reversed()
        guard trimmed.count >= 16 else { throw ConfigError(file: path, "the secret is shorter than 16 bytes") }
        return Secret(bytes: Array(trimmed))
    }

    private static func isSpace(_ byte: UInt8) -> Bool { byte == 0x20 || byte == 0x0A || byte == 0x0D || byte == 0x09 }
}

/// The whole of a small file (config, allowlist, secret), bounded at 1 MiB.
func readFile(_ path: String, limit: Int = 1 << 20) throws -> [UInt8] {
    let fd = open(path, O_RDONLY | O_CLOEXEC)
    guard fd >= 0 else { throw ConfigError(file: path, "cannot open: \(String(cString: strerror(errno)))") }
    defer { close(fd) }
    var bytes: [UInt8] = []
    var chunk = [UInt8](repeating: 0, count: 65536)
    while true {
        let count = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
        if count < 0 {
            if errno == EINTR { continue }
            throw ConfigError(file: path, "cannot read: \(String(cString: strerror(errno)))")
        }
        if count == 0 { return bytes }
        bytes += chunk[0..<count]
        guard bytes.count <= limit else { throw ConfigError(file: path, "the file is larger than \(limit) bytes") }
    }
}

/// A problem with a config, allowlist or secret file, naming the file (and line where there is one).
public struct ConfigError: Error, CustomStringConvertible {
    public var file: String
    public var line: Int?
    public var message: String

    public init(file: String, line: Int? = nil, _ message: String) {
        self.file = file
        self.line = line
        self.message = message
    }

    public var description: String {
        if let line { return "\(file):\(line): \(message)" }
        return "\(file): \(message)"
    }
}
