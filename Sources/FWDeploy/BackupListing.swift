import FWSSH
import Foundation

/// One backup generation on a host, as `fwctl backups` lists it.
public struct BackupGeneration: Sendable, Codable, Equatable {
    public var number: Int
    public var time: String
    public var user: String
    public var rulesHash: String
    /// What made it: the deploy or rollback that replaced these rules.
    public var action: String
}

public struct HostBackups: Sendable, Codable {
    public var host: String
    public var generations: [BackupGeneration]
    /// The rules hash of the last confirmed deploy or rollback.
    public var current: String?
}

extension HostDeployer {
    /// Lists a host's generations over one connection.
    public func backups(_ job: HostJob, deadline: Deadline, jumps: JumpPool? = nil) throws -> HostBackups {
        let run = HostScripts.Run(host: job.target.name, target: job.firewallTarget, stateDirectory: job.stateDirectory,
                                  runID: "list", user: settings.user, action: .diff, hasSets: job.hasSets)
        let session = try SSHSession.connect(to: job.target, options: settings.ssh, deadline: deadline, jumps: jumps)
        defer { session.close() }
        let report = try settings.shell.run(try settings.scripts.backups(run), on: session)
        var generations: [BackupGeneration] = []
        for (key, value) in report.values where key.hasPrefix("generation-") {
            guard let number = Int(key.dropFirst("generation-".count)) else { continue }
            let fields = value.split(separator: " ", omittingEmptySubsequences: false).map(String.init)
            func field(_ i: Int) -> String { i < fields.count ? fields[i] : "" }
            generations.append(BackupGeneration(number: number, time: field(0), user: field(1), rulesHash: field(2), action: field(3)))
        }
        return HostBackups(host: job.target.name, generations: generations.sorted { $0.number < $1.number }, current: report["current"])
    }
}
