import FWPolicy

/// Where a host is in its run, for progress displays.
public enum DeployStep: String, Sendable, Codable {
    case queued, connecting, applying = "validate+apply", confirming = "confirm", waitingForTimer = "waiting for the timer", verifying = "verify", done
}

/// How a host's run ended.
public enum HostResultKind: String, Sendable, Codable {
    /// The new rules are live, confirmed over a new connection and persisted.
    case deployed
    /// A rollback loaded the generation asked for, confirmed over a new connection and persisted.
    case restored
    /// The live rules already equal the rendered ones: nothing was touched.
    case unchanged
    /// Dry-run or diff: the live rules differ from the rendered ones.
    case changed
    /// The revert timer restored the previous rules (the confirming connection failed or came too late).
    case rolledBack = "rolled back"
    /// Apply failed on the host and the previous rules were restored at once.
    case failedRestored = "failed, restored"
    /// Refused before anything changed: invalid rules, a missing program, an unsupported host.
    case refused
    /// Failed; `reason` says in what state the host is.
    case failed
    /// Not started: Ctrl-C, a failed canary, or past --max-fail.
    case skipped

    /// True when the host ended as asked.
    public var isSuccess: Bool { self == .deployed || self == .restored || self == .unchanged || self == .changed }
}

/// One host's result, for the table, --json and the audit log.
public struct HostReport: Sendable, Codable {
    public var host: String
    public var address: String
    public var target: FirewallTarget
    public var action: DeployAction
    public var result: HostResultKind
    public var reason: String?
    /// Extra detail from the host (a validator's message).
    public var detail: String?
    /// The backup generation this run made (or a rollback loaded).
    public var generation: Int?
    /// SHA-256 of the rule files now meant to be live (as `fwctl backups` shows them).
    public var rulesHash: String?
    /// For a rollback: the generation it loaded.
    public var restoredGeneration: Int?
    public var iptablesBackend: String?
    public var timer: String?
    /// Debian packages the host lacks for its target (when refused for that).
    public var missingPackages: [String]?
    public var diff: String?
    /// Seconds per step: connect, script (and the on-host steps inside it), confirm-connect, confirm, verify.
    public var steps: [String: Double]
    public var seconds: Double

    public init(host: String, address: String, target: FirewallTarget, action: DeployAction, result: HostResultKind,
                reason: String? = nil) {
        self.host = host
        self.address = address
        self.target = target
        self.action = action
        self.result = result
        self.reason = reason
        steps = [:]
        seconds = 0
    }
}
