import FWBase
import Foundation

/// home's TLS key and certificate made on this machine, for a home without openssl: with this machine's openssl in a
/// private folder (0700, removed afterwards), then sent inside the install script on stdin. Where home has openssl
/// the key is made there instead and never travels.
enum LocalCertificate {
    static func make(tunnel: String, paths: TunnelEndPaths) throws -> [TunnelScripts.EndFile] {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("fwctl-tls-\(UInt64.random(in: 0 ... .max))").path
        guard mkdir(folder, 0o700) == 0 else { throw TunnelDeployError("cannot make a private folder for home's TLS key: \(String(cString: strerror(errno)))") }
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
                             "-days", "3650", "-subj", "/CN=fwtunnel-\(tunnel)", "-keyout", "\(folder)/key", "-out", "\(folder)/crt"]
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        do { try process.run() } catch {
            throw TunnelDeployError("home has no openssl and this machine's cannot be started (\(error)): install openssl on either")
        }
        process.waitUntilExit()
        guard process.terminationStatus == 0, let key = FileManager.default.contents(atPath: "\(folder)/key"),
              let certificate = FileManager.default.contents(atPath: "\(folder)/crt") else {
            throw TunnelDeployError("home has no openssl and making its TLS key here with openssl failed")
        }
        return [.init(key: "key", file: FileBytes(path: paths.key, bytes: [UInt8](key), mode: 0o600)),
                .init(key: "certificate", file: FileBytes(path: paths.certificate, bytes: [UInt8](certificate), mode: 0o644))]
    }
}
