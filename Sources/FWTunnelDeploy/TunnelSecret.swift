import FWBase
import Foundation

/// A tunnel's shared secret: 32 random bytes as 64 hex digits (what fwtunnel reads from its 0600 secret file).
/// Never shown: `print`, interpolation, `dump` and a debugger's summary all say `<secret>`. It travels to the hosts
/// inside a script on stdin and back as a file's bytes over SSH, never in a command line.
public struct TunnelSecret: Sendable, Equatable, CustomStringConvertible, CustomDebugStringConvertible, CustomReflectable {
    let hex: String

    public static func generate() -> TunnelSecret {
        var generator = SystemRandomNumberGenerator()  // getrandom(2) on Linux
        let digits = Array("0123456789abcdef".utf8)
        var bytes: [UInt8] = []
        for _ in 0..<32 {
            let byte = UInt8.random(in: .min ... .max, using: &generator)
            bytes += [digits[Int(byte >> 4)], digits[Int(byte & 0xF)]]
        }
        return TunnelSecret(hex: String(decoding: bytes, as: UTF8.self))
    }

    /// A secret file's bytes, as fwtunnel reads them (surrounding whitespace ignored); nil when they are not one
    /// fwctl wrote (then a re-install replaces it rather than spreading it to the work hosts).
    public init?(fileBytes: Data) {
        let text = String(decoding: fileBytes, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        guard text.utf8.count == 64, text.utf8.allSatisfy({ ($0 >= 0x30 && $0 <= 0x39) || ($0 >= 0x61 && $0 <= 0x66) }) else { return nil }
        hex = text
    }

    private init(hex: String) { self.hex = hex }

    /// The secret file's bytes (mode 0600 wherever they are written).
    public var fileBytes: [UInt8] { Array((hex + "\n").utf8) }

    /// Strings an output must never contain: the secret as written and in base64 (tests grep for these).
    public var forbiddenInOutput: [String] { [hex, Data(fileBytes).base64EncodedString()] }

    public var description: String { "<secret>" }
    public var debugDescription: String { "<secret>" }
    public var customMirror: Mirror { Mirror(self, children: [:]) }

    /// `--save-secrets DIR`: the local copy, DIR/NAME.secret, created 0600 (never wider, whatever the umask).
    public func save(tunnel: String, in directory: String) throws {
        let path = "\(directory)/\(tunnel).secret"
        let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw TunnelDeployError("cannot write \(path): \(String(cString: strerror(errno)))") }
        defer { close(fd) }
        guard fchmod(fd, 0o600) == 0 else { throw TunnelDeployError("cannot make \(path) mode 0600") }
        let bytes = fileBytes
        let written = bytes.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
        guard written == bytes.count else { throw TunnelDeployError("cannot write \(path): \(String(cString: strerror(errno)))") }
    }
}
