import Crypto
import Foundation

/// A public key in SSH wire format (the blob in known_hosts, agents and `.pub` files).
public struct PublicKey: Sendable, Hashable {
    public let blob: [UInt8]

    public init(blob: [UInt8]) { self.blob = blob }

    /// Parses the base64 field of a known_hosts or `.pub` line.
    public init?(base64: String) {
        guard let data = Data(base64Encoded: base64), !data.isEmpty else { return nil }
        blob = Array(data)
    }

    /// The algorithm named inside the blob: "ssh-ed25519", "ecdsa-sha2-nistp256", "ssh-rsa", ...
    public var type: String { SSHWire.firstString(blob) ?? "unknown" }

    public var base64: String { Data(blob).base64EncodedString() }

    /// `SHA256:` and the unpadded base64 of the blob's SHA-256, exactly as `ssh-keygen -l` prints it.
    public var fingerprint: String {
        var text = Data(SHA256.hash(data: blob)).base64EncodedString()
        while text.hasSuffix("=") { text.removeLast() }
        return "SHA256:" + text
    }

    public var isRSA: Bool { type == "ssh-rsa" }
}

/// Reading SSH wire-format strings (uint32 big-endian length, then bytes).
enum SSHWire {
    static func firstString(_ bytes: [UInt8]) -> String? {
        var reader = Reader(bytes: bytes)
        return reader.string().map { String(decoding: $0, as: UTF8.self) }
    }

    struct Reader {
        let bytes: [UInt8]
        var offset = 0

        mutating func uint32() -> UInt32? {
            guard offset + 4 <= bytes.count else { return nil }
            defer { offset += 4 }
            return bytes[offset..<offset + 4].reduce(0) { $0 << 8 | UInt32($1) }
        }

        mutating func string() -> [UInt8]? {
            guard let length = uint32(), Int(length) <= bytes.count - offset else { return nil }
            defer { offset += Int(length) }
            return Array(bytes[offset..<offset + Int(length)])
        }
    }
}
