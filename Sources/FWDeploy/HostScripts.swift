import FWBase
import FWPolicy
import FWTemplate
import Foundation

/// What a run does on a host.
public enum DeployAction: String, Sendable, Codable {
    /// Install the rendered rules.
    case deploy
    /// Validate and compare only; report what would change (with the diff).
    case dryRun = "dry-run"
    /// Like dry-run, for `fwctl diff`.
    case diff
    /// Load an earlier backup generation (`rollback --to`, else the newest).
    case rollback

    public var changesRules: Bool { self == .deploy || self == .rollback }
}

/// The on-host scripts, rendered from `templates/deploy/` in fwctl's strict, rule-safe mode: every value is
/// checked again by the template engine, and the values fwctl builds are checked here first with clear errors.
public struct HostScripts: Sendable {
    public let templates: TemplateSet
    public let generator: String

    public init(templates: TemplateSet, generator: String) throws(TemplateError) {
        for name in ["deploy/apply.sh", "deploy/confirm.sh", "deploy/lib.sh", "deploy/backups.sh"] { _ = try templates.template(named: name) }
        self.templates = templates
        self.generator = generator
    }

    /// The values every script of one host run shares.
    public struct Run: Sendable {
        public var host: String
        public var target: FirewallTarget
        public var stateDirectory: String
        public var runID: String
        public var user: String
        public var action: DeployAction
        public var hasSets: Bool

        public init(host: String, target: FirewallTarget, stateDirectory: String, runID: String, user: String,
                    action: DeployAction, hasSets: Bool) {
            self.host = host
            self.target = target
            self.stateDirectory = stateDirectory
            self.runID = runID
            self.user = user
            self.action = action
            self.hasSets = hasSets
        }
    }

    /// The first round trip: write the files, detect, validate, compare, back up, arm the timer, apply.
    public func apply(_ run: Run, files: [FileBytes], confirmSeconds: Int, keep: Int, rollbackTo: Int?) throws -> [UInt8] {
        guard (1...3600).contains(confirmSeconds) else { throw DeployError("--confirm-timeout must be 1 to 3600 seconds, not \(confirmSeconds)") }
        guard (1...1000).contains(keep) else { throw DeployError("--keep must be 1 to 1000, not \(keep)") }
        var data = try common(run)
        data.set("files", .list(try files.map { file in
            guard FirewallRenderer.outputs(for: run.target).contains(where: { $0.file == file.name }) else {
                throw DeployError("\(file.name) is not a file of the \(run.target.rawValue) target")
            }
            return .object(["name": .string(file.name), "base64": .string(Data(file.bytes).base64EncodedString())])
        }))
        data.set("confirmSeconds", .int(confirmSeconds))
        data.set("keep", .int(keep))
        data.set("dryRun", .bool(!run.action.changesRules))
        data.set("showDiff", .bool(!run.action.changesRules))
        data.set("rollback", .bool(run.action == .rollback))
        data.set("rollbackTo", rollbackTo.map { .int($0) } ?? .bool(false))
        return try templates.render("deploy/apply.sh", .object(data))
    }

    /// Over a new connection: cancel the timer, persist, record; or (`verifyOnly`) report what the timer did.
    public func confirm(_ run: Run, verifyOnly: Bool) throws -> [UInt8] {
        var data = try common(run)
        data.set("verifyOnly", .bool(verifyOnly))
        return try templates.render("deploy/confirm.sh", .object(data))
    }

    /// Lists the backup generations (read-only).
    public func backups(_ run: Run) throws -> [UInt8] {
        try templates.render("deploy/backups.sh", .object(try common(run)))
    }

    private func common(_ run: Run) throws -> TemplateObject {
        try Self.checkStateDirectory(run.stateDirectory)
        guard run.runID.count <= 64, !run.runID.isEmpty, run.runID.utf8.allSatisfy({ Self.isPlain($0) && $0 != 0x2E }) else {
            throw DeployError("run id \(run.runID.debugDescription) is not plain")
        }
        var data = TemplateObject()
        data.set("host", .string(run.host))
        data.set("generator", .string(generator))
        data.set("target", .string(run.target.rawValue))
        data.set("iptables", .bool(run.target == .iptables))
        data.set("nftables", .bool(run.target == .nftables))
        data.set("ufw", .bool(run.target == .ufw))
        data.set("usesIptables", .bool(run.target != .nftables))
        data.set("hasSets", .bool(run.hasSets))
        data.set("stateDir", .string(run.stateDirectory))
        data.set("runId", .string(run.runID))
        data.set("user", .string(Self.plainUser(run.user)))
        data.set("action", .string(run.action.rawValue))
        return data
    }

    /// An absolute path of plain names (letters, digits, `.`, `_`, `-`), no `.` or `..` component, not `/`.
    public static func checkStateDirectory(_ path: String) throws {
        let parts = path.split(separator: "/", omittingEmptySubsequences: false)
        guard path.hasPrefix("/"), path.count <= 200, parts.count >= 2,
              parts.dropFirst().allSatisfy({ !$0.isEmpty && $0 != "." && $0 != ".." && $0.utf8.allSatisfy(isPlain) })
        else {
            throw DeployError("fwctl_state_dir \(path.debugDescription) must be an absolute path of plain names (letters, digits, . _ -), such as /var/lib/fwctl")
        }
    }

    /// The user name as recorded: plain characters only, others replaced by `_`.
    static func plainUser(_ name: String) -> String {
        let plain = String(decoding: name.utf8.prefix(64).map { isPlain($0) ? $0 : 0x5F }, as: UTF8.self)
        return plain.isEmpty ? "unknown" : plain
    }

    static func isPlain(_ byte: UInt8) -> Bool {
        (byte >= 0x30 && byte <= 0x39) || (byte >= 0x41 && byte <= 0x5A) || (byte >= 0x61 && byte <= 0x7A)
            || byte == 0x2E || byte == 0x5F || byte == 0x2D
    }
}
