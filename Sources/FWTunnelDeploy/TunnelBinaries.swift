import Crypto
import FWBase
import Foundation

/// The fwtunnel-home and fwtunnel-work executables this package built, read once per run: their bytes (uploaded
/// only to hosts whose copy has another SHA-256), checksum and platform.
public struct TunnelBinaries: Sendable {
    public struct Binary: Sendable {
        public var path: String
        public var bytes: [UInt8]
        public var sha256: String
        public var platform: BinaryPlatform
    }

    public let directory: String
    private let loaded: Locked<[TunnelRole: Binary]> = Locked([:])

    /// `directory` holds both executables (`--tunnel-binaries`, else the folder of the running fwctl).
    public init(directory: String) { self.directory = directory }

    /// The folder of the running executable, symlinks resolved: where `swift build` and `make install` put
    /// fwtunnel-home and fwtunnel-work beside fwctl.
    public static var besideThisExecutable: String {
        let path = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]
        return URL(fileURLWithPath: path).deletingLastPathComponent().path
    }

    public func binary(_ role: TunnelRole) throws -> Binary {
        if let known = loaded.withLock({ $0[role] }) { return known }
        let path = "\(directory)/\(role.program)"
        guard let data = FileManager.default.contents(atPath: path) else {
            throw TunnelDeployError("\(path) is missing: build it (`swift build --product \(role.program)`, or `make install`) or pass --tunnel-binaries DIR")
        }
        let digest = SHA256.hash(data: data).map { String(format: "%02x", $0) }.joined()
        let binary = Binary(path: path, bytes: [UInt8](data), sha256: digest, platform: try BinaryPlatform.read(path: path))
        loaded.withLock { $0[role] = binary }
        return binary
    }
}
