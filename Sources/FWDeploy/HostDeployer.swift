import FWPolicy
import FWSSH
import Foundation

/// Everything a deploy run needs besides the hosts.
public struct DeploySettings: Sendable {
    public var ssh: SSHOptions
    public var shell: HostShell
    public var scripts: HostScripts
    public var action: DeployAction
    /// How long the revert timer waits for the confirming connection.
    public var confirmSeconds: Int = 30
    /// Backup generations kept per host.
    public var keep: Int = 10
    /// `rollback --to N`; nil: the newest generation.
    public var rollbackTo: Int?
    /// Who runs fwctl, as recorded on the host and in the audit log.
    public var user: String = SSHTarget.localUserName

    public init(ssh: SSHOptions, shell: HostShell, scripts: HostScripts, action: DeployAction) {
        self.ssh = ssh
        self.shell = shell
        self.scripts = scripts
        self.action = action
    }
}

/// One host's run: two connections when the rules change (the first to apply, a new one to confirm), one
/// otherwise, and a third only to verify a rollback after the confirming connection failed.
public struct HostDeployer: Sendable {
    public let settings: DeploySettings

    public init(settings: DeploySettings) { self.settings = settings }

    /// `jumps`: the run's jump sessions (FleetDeployer shares one pool for the run). Every connection of the host's
    /// run is still a new one to the host itself: through a jump, a new direct-tcpip channel (a new TCP connection
    /// from the jump host) and a new handshake and login.
    public func run(_ job: HostJob, deadline: Deadline, jumps: JumpPool? = nil,
                    step: @Sendable (DeployStep) -> Void = { _ in }) -> HostReport {
        let started = ContinuousClock.now
        var report = steps(job, deadline: deadline, jumps: jumps, step: step)
        report.seconds = (ContinuousClock.now - started).secondsDouble
        return report
    }

    private func steps(_ job: HostJob, deadline: Deadline, jumps: JumpPool?, step: @Sendable (DeployStep) -> Void) -> HostReport {
        var report = HostReport(host: job.target.name, address: job.target.address, target: job.firewallTarget,
                                action: settings.action, result: .failed)
        var clock = StepClock()
        let run = HostScripts.Run(host: job.target.name, target: job.firewallTarget, stateDirectory: job.stateDirectory,
                                  runID: Self.newRunID(), user: settings.user, action: settings.action, hasSets: job.hasSets)
        // 1. Connect, write, validate, compare, back up, arm, apply: one connection, one command.
        var applied: ScriptReport?
        var scriptEnded = ContinuousClock.now
        var connected = false
        do {
            let script = try settings.scripts.apply(run, files: job.files, confirmSeconds: settings.confirmSeconds,
                                                    keep: settings.keep, rollbackTo: settings.rollbackTo)
            step(.connecting)
            let session = try SSHSession.connect(to: job.target, options: settings.ssh, deadline: deadline, jumps: jumps)
            defer { session.close() }
            connected = true
            clock.lap("connect", into: &report)
            step(.applying)
            applied = try settings.shell.run(script, on: session)
            scriptEnded = .now
            clock.lap("script", into: &report)
        } catch {
            report.reason = Self.describe(error)
            guard connected, settings.action.changesRules else {
                step(.done)
                return report
            }
            // The script may have armed the timer and applied before the connection died: its timer restores the
            // host; wait for it and look.
            scriptEnded = .now
            report.reason = "the connection failed during apply (\(report.reason ?? ""))"
        }
        if let applied {
            absorb(applied, into: &report)
            step(.done)
            switch applied.result {
            case "unchanged": report.result = .unchanged; return report
            case "changed": report.result = .changed; return report
            case "applied": break
            case "failed-restored": report.result = .failedRestored; return report
            case "invalid", "refused", "missing": report.result = .refused; return report
            default: report.result = .failed; return report
            }
        }
        let timerFires = scriptEnded + .seconds(settings.confirmSeconds)
        if applied != nil {
            // 2. Confirm over a NEW connection: new TCP connection, new handshake, new login. It must finish
            // before the timer fires; if it cannot be made, the timer restores the host by itself.
            step(.confirming)
            do {
                let session = try SSHSession.connect(to: job.target, options: settings.ssh,
                                                     deadline: min(deadline, Deadline(timerFires)), jumps: jumps)
                defer { session.close() }
                clock.lap("confirm-connect", into: &report)
                let confirmed = try settings.shell.run(try settings.scripts.confirm(run, verifyOnly: false), on: session)
                clock.lap("confirm", into: &report)
                step(.done)
                switch confirmed.result {
                case "confirmed":
                    report.result = settings.action == .rollback ? .restored : .deployed
                case "restored":
                    report.result = .rolledBack
                    report.reason = "the confirmation came after the \(settings.confirmSeconds) s timer had restored generation \(report.generation.map(String.init) ?? "?")"
                case "persist-failed-restored":
                    report.result = .failedRestored
                    report.reason = confirmed.reason
                case "persist-failed":
                    report.result = .failed
                    report.reason = confirmed.reason
                default:
                    report.result = .failed
                    report.reason = "confirming ended with \(confirmed.result ?? "no result"): \(confirmed.reason ?? "")"
                }
                return report
            } catch {
                report.reason = "the confirming connection failed (\(Self.describe(error)))"
            }
        }
        // 3. Locked out (or the connection died): wait for the timer, then connect again to see that it restored.
        step(.waitingForTimer)
        let verifyAt = timerFires + .seconds(3)
        while ContinuousClock.now < verifyAt && !deadline.hasPassed {
            Thread.sleep(forTimeInterval: min(0.2, max(0.01, (verifyAt - .now).secondsDouble)))
        }
        clock.lap("wait-timer", into: &report)
        step(.verifying)
        let firstReason = report.reason ?? ""
        for attempt in 1...3 {
            do {
                let session = try SSHSession.connect(to: job.target, options: settings.ssh, deadline: deadline, jumps: jumps)
                defer { session.close() }
                let verified = try settings.shell.run(try settings.scripts.confirm(run, verifyOnly: true), on: session)
                // A timer still sleeping (a slow host) or restoring right now: look again shortly.
                let settled = verified.result == "restored" || verified.result == "restore-failed"
                    || (verified.result == "unknown" && applied == nil)
                if !settled && attempt < 3 && !deadline.hasPassed {
                    Thread.sleep(forTimeInterval: 2)
                    continue
                }
                clock.lap("verify", into: &report)
                step(.done)
                if applied == nil && verified.result == "unknown" {
                    report.result = .failed
                    report.reason = "\(firstReason); the script had not armed its timer, so nothing was applied"
                } else if verified.result == "restored" {
                    report.result = .rolledBack
                    report.reason = "lockout: \(firstReason); the revert timer restored generation \(report.generation.map(String.init) ?? "?")"
                } else {
                    report.result = .failed
                    report.reason = "\(firstReason); afterwards the host reports the timer as \(verified.result ?? "unknown")"
                }
                return report
            } catch {
                if attempt == 3 || deadline.hasPassed {
                    report.result = .failed
                    report.reason = "\(firstReason); after the timer was due, the host could not be reached to verify the restore either (\(Self.describe(error)))"
                    step(.done)
                    return report
                }
                Thread.sleep(forTimeInterval: 2)
            }
        }
        return report
    }

    private func absorb(_ script: ScriptReport, into report: inout HostReport) {
        report.reason = script.reason
        report.detail = script["detail"]
        report.generation = script["generation"].flatMap { Int($0) }
        report.rulesHash = script["hash"]
        report.restoredGeneration = script["source"].flatMap { Int($0.prefix { $0 != "-" }) }
        report.iptablesBackend = script["backend"]
        report.timer = script["timer"]
        report.missingPackages = script["missing"].map { $0.split(separator: " ").map(String.init) }
        report.diff = script.diff
        for (name, ms) in script.stepMilliseconds { report.steps["host-\(name)"] = Double(ms) / 1000 }
    }

    static func describe(_ error: any Error) -> String {
        if let ssh = error as? SSHError { return "\(ssh.reason): \(ssh.message)" }
        return "\(error)"
    }

    /// Unique per host run: names the cookie, the timer and the staging folder on the host.
    static func newRunID() -> String {
        var generator = SystemRandomNumberGenerator()
        let time = UInt64(Date().timeIntervalSince1970)
        return String(time, radix: 16) + String(generator.next() as UInt64, radix: 16)
    }
}

/// Times the steps of one host's run.
struct StepClock {
    private var last = ContinuousClock.now

    mutating func lap(_ name: String, into report: inout HostReport) {
        let now = ContinuousClock.now
        report.steps[name] = (now - last).secondsDouble
        last = now
    }
}
