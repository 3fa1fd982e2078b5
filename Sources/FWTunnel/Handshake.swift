import Crypto
import NIOCore

/// The challenge-response that authenticates every home-work connection: home sends a fresh random nonce, work
/// answers with HMAC-SHA256 over the nonce and everything it claims (role, agent, session, services). A captured
/// hello is useless on another connection, whose nonce differs; a data connection also names the live session of
/// its agent's command connection, so one from an earlier session is refused too.
public enum Handshake {
    static let context = Array("fwtunnel-hello".utf8)

    public static func makeNonce() -> [UInt8] {
        var generator = SystemRandomNumberGenerator()
        return (0..<Frame.nonceSize).map { _ in UInt8.random(in: .min ... .max, using: &generator) }
    }

    public static func makeSession() -> [UInt8] {
        var generator = SystemRandomNumberGenerator()
        return (0..<Frame.sessionSize).map { _ in UInt8.random(in: .min ... .max, using: &generator) }
    }

    private static func authenticated(_ hello: Hello, nonce: [UInt8]) -> [UInt8] {
        var body = ByteBufferAllocator().buffer(capacity: 128)
        body.writeBytes(context)
        body.writeBytes(nonce)
        hello.encodeBody(into: &body)
        return body.readBytes(length: body.readableBytes)!
    }

    /// `hello` with its MAC filled in for `nonce`.
    public static func sign(_ hello: Hello, nonce: [UInt8], secret: Secret) -> Hello {
        var signed = hello
        signed.mac = Array(HMAC<SHA256>.authenticationCode(for: authenticated(hello, nonce: nonce), using: secret.key))
        return signed
    }

    /// Constant-time check of the hello's MAC.
    public static func verify(_ hello: Hello, nonce: [UInt8], secret: Secret) -> Bool {
        hello.mac.count == Hello.macSize
            && HMAC<SHA256>.isValidAuthenticationCode(hello.mac, authenticating: authenticated(hello, nonce: nonce), using: secret.key)
    }
}

/// Agent and service names: what may appear in frames, logs and the status JSON without escaping.
public enum TunnelName {
    public static func isValid(_ name: String) -> Bool {
        !name.isEmpty && name.utf8.count <= 64 && name.utf8.allSatisfy { byte in
            (byte >= 0x30 && byte <= 0x39) || (byte >= 0x41 && byte <= 0x5A) || (byte >= 0x61 && byte <= 0x7A)
                || byte == 0x2D || byte == 0x2E || byte == 0x5F
        }
    }
}
