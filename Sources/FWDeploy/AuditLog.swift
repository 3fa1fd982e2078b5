import FWBase
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// The local, append-only record of what fwctl did to which host: one JSON object per line (time, user, host,
/// action, generation, rules hash, result), written with O_APPEND so concurrent runs never interleave a line.
public struct AuditLog: Sendable {
    public let path: String

    public init(path: String) { self.path = path }

    /// `$FWCTL_AUDIT_LOG`, else `$XDG_STATE_HOME/fwctl/audit.jsonl`, else `~/.local/state/fwctl/audit.jsonl`.
    public static func defaultPath(environment: [String: String] = ProcessInfo.processInfo.environment) -> String {
        if let path = environment["FWCTL_AUDIT_LOG"], !path.isEmpty { return path }
        let home = environment["HOME"].flatMap { $0.isEmpty ? nil : $0 } ?? NSHomeDirectory()
        let state = environment["XDG_STATE_HOME"].flatMap { $0.isEmpty ? nil : $0 } ?? home + "/.local/state"
        return state + "/fwctl/audit.jsonl"
    }

    struct Entry: Encodable {
        var time: String
        var user: String
        var host: String
        var address: String
        var action: String
        var generation: Int?
        var rulesHash: String?
        var result: String
        var reason: String?
    }

    public func append(_ reports: [HostReport], user: String, now: Date = Date()) throws {
        let time = ISO8601DateFormatter().string(from: now)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        var bytes = Data()
        for report in reports {
            let entry = Entry(time: time, user: user, host: report.host, address: report.address, action: report.action.rawValue,
                              generation: report.generation, rulesHash: report.rulesHash, result: report.result.rawValue,
                              reason: report.reason)
            bytes += try encoder.encode(entry) + Data("\n".utf8)
        }
        guard !bytes.isEmpty else { return }
        let folder = PathComponents.folder(of: path)
        if !folder.isEmpty { try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true) }
        let fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw DeployError("cannot open the audit log \(path): \(String(cString: strerror(errno)))") }
        defer { close(fd) }
        // One write per run: with O_APPEND the lines land together, after whatever another run appended.
        let written = bytes.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
        guard written == bytes.count else { throw DeployError("cannot write the audit log \(path): \(String(cString: strerror(errno)))") }
    }
}
