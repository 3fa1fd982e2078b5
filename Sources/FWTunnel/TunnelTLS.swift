import Crypto
import NIOCore
import NIOSSL

/// TLS 1.3 between home and work. home presents its certificate; work accepts exactly the certificate whose
/// SHA-256 fingerprint its config pins (no CA, no host name: the pin is the whole trust decision).
public enum TunnelTLS {
    /// How long a closing connection waits for the peer's close_notify (NIOSSL's default is 5 s): a relay that
    /// ended, or a process shutting down, should not hold sockets that long.
    static let shutdownTimeout = TimeAmount.seconds(1)

    public static func serverContext(certificate: String, key: String) throws -> NIOSSLContext {
        do {
            let chain = try NIOSSLCertificate.fromPEMFile(certificate).map { NIOSSLCertificateSource.certificate($0) }
            let privateKey = try NIOSSLPrivateKey(file: key, format: .pem)
            var configuration = TLSConfiguration.makeServerConfiguration(certificateChain: chain, privateKey: .privateKey(privateKey))
            configuration.minimumTLSVersion = .tlsv13
            configuration.shutdownTimeout = shutdownTimeout
            return try NIOSSLContext(configuration: configuration)
        } catch {
            throw ConfigError(file: certificate, "cannot load the TLS certificate or key (\(key)): \(error)")
        }
    }

    public static func clientContext() throws -> NIOSSLContext {
        var configuration = TLSConfiguration.makeClientConfiguration()
        configuration.minimumTLSVersion = .tlsv13
        // Verification happens in the pin callback below; .noHostnameVerification keeps the callback called.
        configuration.certificateVerification = .noHostnameVerification
        configuration.shutdownTimeout = shutdownTimeout
        return try NIOSSLContext(configuration: configuration)
    }

    /// The client handler that accepts only the pinned leaf certificate.
    public static func clientHandler(context: NIOSSLContext, pinned: [UInt8]) throws -> NIOSSLClientHandler {
        try NIOSSLClientHandler(context: context, serverHostname: nil) { certificates, promise in
            guard let leaf = certificates.first, let der = try? leaf.toDERBytes(), Array(SHA256.hash(data: der)) == pinned else {
                promise.succeed(.failed)
                return
            }
            promise.succeed(.certificateVerified)
        }
    }

    /// SHA-256 of the first certificate in a PEM file, as work's config writes it.
    public static func fingerprint(ofPEMFile path: String) throws -> [UInt8] {
        do {
            guard let leaf = try NIOSSLCertificate.fromPEMFile(path).first else { throw ConfigError(file: path, "no certificate in the file") }
            return Array(SHA256.hash(data: try leaf.toDERBytes()))
        } catch let error as ConfigError {
            throw error
        } catch {
            throw ConfigError(file: path, "cannot read the certificate: \(error)")
        }
    }
}
