import FWBase
import FWDeploy
import FWPolicy
import FWSSH
import Foundation

/// Everything a tunnel run needs besides the tunnels.
public struct TunnelSettings: Sendable {
    public var ssh: SSHOptions
    public var shell: HostShell
    public var scripts: TunnelScripts
    public var binaries: TunnelBinaries
    /// How many work hosts of one tunnel at once.
    public var parallelism = 16
    /// `--rotate-secret`: a new shared secret even where one is installed.
    public var rotateSecret = false
    /// `--save-secrets DIR`: a local 0600 copy of each tunnel's secret.
    public var saveSecretsDirectory: String?
    /// How long to wait for every agent to connect after the install.
    public var verifySeconds: Double = 20

    public init(ssh: SSHOptions, shell: HostShell, scripts: TunnelScripts, binaries: TunnelBinaries) {
        self.ssh = ssh
        self.shell = shell
        self.scripts = scripts
        self.binaries = binaries
    }
}

/// A progress event: a tunnel's end moved to a step, or finished (with its report).
public struct TunnelEvent: Sendable {
    public var tunnel: String
    public var host: String
    public var role: TunnelRole
    public var step: String
    public var report: TunnelEndReport?
}

/// Installs, checks and removes tunnels over SSH. Per tunnel: home first (its secret, TLS key and certificate decide
/// what the work hosts get), then its work hosts in parallel, then a check on home that every agent connected and
/// holds authenticated data connections. Each end is one probe (read-only), an upload of the binary only when its
/// checksum differs, and one script that writes only what differs and restarts only when something changed.
public struct TunnelInstaller: Sendable {
    public let settings: TunnelSettings

    public init(settings: TunnelSettings) { self.settings = settings }

    /// The agent name of a work host in home's status and work's config (TunnelName: 1-64 of A-Z a-z 0-9 . _ -).
    public static func agentName(_ host: String, index: Int) -> String {
        let plain = host.utf8.count <= 64 && !host.isEmpty && host.utf8.allSatisfy {
            ($0 >= 0x30 && $0 <= 0x39) || ($0 >= 0x41 && $0 <= 0x5A) || ($0 >= 0x61 && $0 <= 0x7A) || $0 == 0x2E || $0 == 0x5F || $0 == 0x2D
        }
        return plain ? host : "work-\(index + 1)"
    }

    // MARK: Install

    public func install(_ plan: TunnelPlan, targets: [String: SSHTarget], jumps: JumpPool,
                        events: (@Sendable (TunnelEvent) -> Void)? = nil) -> TunnelReport {
        guard let homeTarget = targets[plan.home] else {
            return TunnelReport(tunnel: plan.name, ends: [TunnelEndReport(tunnel: plan.name, host: plan.home, role: .home, result: .failed, reason: "no connection settings")])
        }
        let home = timed(plan, host: plan.home, role: .home, events: events) { report in
            try installHome(plan, target: homeTarget, jumps: jumps, report: &report, step: { events?(TunnelEvent(tunnel: plan.name, host: plan.home, role: .home, step: $0)) })
        }
        var ends = [home.report]
        guard home.report.result.isSuccess, let secret = home.value?.secret else {
            for host in plan.work {
                let skipped = TunnelEndReport(tunnel: plan.name, host: host, role: .work, result: .skipped, reason: "not started: home failed")
                events?(TunnelEvent(tunnel: plan.name, host: host, role: .work, step: "done", report: skipped))
                ends.append(skipped)
            }
            return TunnelReport(tunnel: plan.name, ends: ends)
        }
        if let directory = settings.saveSecretsDirectory {
            do { try secret.save(tunnel: plan.name, in: directory) } catch {
                ends[0].reason = "installed, but the local copy of the secret failed: \(error)"
            }
        }
        let fingerprint = home.value?.fingerprint
        let workTargets = plan.work.compactMap { targets[$0] }
        let runner = HostRunner(parallelism: settings.parallelism)
        let results = runner.run(workTargets, hostTimeout: settings.ssh.hostTimeout) { target, deadline in
            let index = plan.work.firstIndex(of: target.name) ?? 0
            return timed(plan, host: target.name, role: .work, events: events) { report in
                try installWork(plan, target: target, agent: Self.agentName(target.name, index: index), secret: secret,
                                fingerprint: fingerprint, jumps: jumps, deadline: deadline, report: &report,
                                step: { events?(TunnelEvent(tunnel: plan.name, host: target.name, role: .work, step: $0)) })
            }.report
        }
        for (offset, result) in results.enumerated() {
            ends.append(result.outcome.value ?? TunnelEndReport(tunnel: plan.name, host: workTargets[offset].name, role: .work,
                                                                result: .failed, reason: result.outcome.error.map(Self.describe)))
        }
        var report = TunnelReport(tunnel: plan.name, ends: ends)
        verify(plan, target: homeTarget, jumps: jumps, report: &report)
        return report
    }

    private struct HomeOutcome {
        var secret: TunnelSecret
        var fingerprint: String?
    }

    private func installHome(_ plan: TunnelPlan, target: SSHTarget, jumps: JumpPool, report: inout TunnelEndReport,
                             step: (String) -> Void) throws -> HomeOutcome {
        let paths = TunnelEndPaths(tunnel: plan.name, role: .home)
        let binary = try settings.binaries.binary(.home)
        step("connect")
        let session = try SSHSession.connect(to: target, options: settings.ssh, jumps: jumps)
        defer { session.close() }
        step("probe")
        let probe = try probe(paths, binary: binary, on: session, report: &report)

        // The secret: the one on home, unless there is none (or one fwctl did not write) or rotation was asked for.
        var secret: TunnelSecret?
        if !settings.rotateSecret, probe["sum.secret"] != "absent" {
            let read = try session.run("cat -- \(SSHSession.shellQuoted(paths.secret))", asRoot: true, timeout: settings.shell.commandTimeout)
            if read.succeeded { secret = TunnelSecret(fileBytes: read.stdout) }
        }
        let theSecret = secret ?? TunnelSecret.generate()

        var files = [TunnelScripts.EndFile(key: "secret", file: FileBytes(path: paths.secret, bytes: theSecret.fileBytes, mode: 0o600)),
                     TunnelScripts.EndFile(key: "config", file: try settings.scripts.homeConfig(plan)),
                     TunnelScripts.EndFile(key: "allowlist", file: try settings.scripts.allowlist(plan))]
        files.append(try runnerFile(paths, mode: probe["mode"]))
        // home's TLS key: made on home by its openssl (the key never travels); without openssl there, made here by
        // ours in a private folder and sent inside the install script (stdin), then deleted here.
        var generateOnHost = false
        if plan.tls, probe["sum.key"] == "absent" || probe["sum.certificate"] == "absent" {
            if probe["openssl"] == "yes" {
                generateOnHost = true
            } else {
                files += try LocalCertificate.make(tunnel: plan.name, paths: paths)
            }
        }
        let binaryChanged = try uploadBinaryIfChanged(binary, paths: paths, probe: probe, on: session, step: step)
        step("install")
        let script = try settings.scripts.apply(paths, host: target.name, files: files, generateCertificate: generateOnHost,
                                                binaryChanged: binaryChanged, printFingerprint: plan.tls)
        let applied = try settings.shell.run(script, on: session)
        absorb(applied, into: &report)
        var fingerprint: String?
        if plan.tls {
            guard let printed = applied["fingerprint"], printed.count >= 64, printed.allSatisfy({ $0.isHexDigit || $0 == ":" }) else {
                if report.result.isSuccess { report.result = .failed; report.reason = "home did not print its certificate's fingerprint" }
                return HomeOutcome(secret: theSecret)
            }
            fingerprint = printed
        }
        return HomeOutcome(secret: theSecret, fingerprint: fingerprint)
    }

    private func installWork(_ plan: TunnelPlan, target: SSHTarget, agent: String, secret: TunnelSecret, fingerprint: String?,
                             jumps: JumpPool, deadline: Deadline, report: inout TunnelEndReport, step: (String) -> Void) throws {
        let paths = TunnelEndPaths(tunnel: plan.name, role: .work)
        let binary = try settings.binaries.binary(.work)
        step("connect")
        let session = try SSHSession.connect(to: target, options: settings.ssh, deadline: deadline, jumps: jumps)
        defer { session.close() }
        step("probe")
        let probe = try probe(paths, binary: binary, on: session, report: &report)
        let files = [TunnelScripts.EndFile(key: "secret", file: FileBytes(path: paths.secret, bytes: secret.fileBytes, mode: 0o600)),
                     TunnelScripts.EndFile(key: "config", file: try settings.scripts.workConfig(plan, agent: agent, fingerprint: fingerprint)),
                     try runnerFile(paths, mode: probe["mode"])]
        let binaryChanged = try uploadBinaryIfChanged(binary, paths: paths, probe: probe, on: session, step: step)
        step("install")
        let script = try settings.scripts.apply(paths, host: target.name, files: files, generateCertificate: false,
                                                binaryChanged: binaryChanged, printFingerprint: false)
        absorb(try settings.shell.run(script, on: session), into: &report)
    }

    /// The read-only probe, and the platform check against the local binary (a mismatch refuses the host).
    private func probe(_ paths: TunnelEndPaths, binary: TunnelBinaries.Binary, on session: SSHSession,
                       report: inout TunnelEndReport) throws -> ScriptReport {
        let probe = try settings.shell.run(try settings.scripts.probe(paths, host: session.target.name, interpreter: binary.platform.interpreter), on: session)
        guard probe.result == "ok" else { throw TunnelDeployError("probing the host failed: \(probe.reason ?? probe.result ?? "no result")") }
        report.mode = probe["mode"]
        if let why = binary.platform.mismatch(hostArch: probe["arch"] ?? "?", hostLibc: probe["libc"] ?? "?",
                                              interpreterPresent: probe["interpreter"].map { $0 == "yes" }) {
            throw Refusal("\(binary.path) cannot run there: \(why)")
        }
        return probe
    }

    /// The supervisor script, or the systemd unit where systemd runs the host's services.
    private func runnerFile(_ paths: TunnelEndPaths, mode: String?) throws -> TunnelScripts.EndFile {
        mode == "systemd" ? .init(key: "unit", file: try settings.scripts.unit(paths))
            : .init(key: "supervisor", file: try settings.scripts.supervisor(paths))
    }

    private func uploadBinaryIfChanged(_ binary: TunnelBinaries.Binary, paths: TunnelEndPaths, probe: ScriptReport,
                                       on session: SSHSession, step: (String) -> Void) throws -> Bool {
        guard probe["sum.binary"] != binary.sha256 else { return false }
        step("upload")
        try session.install([FileBytes(path: paths.binary, bytes: binary.bytes, mode: 0o755)], asRoot: true,
                            timeout: settings.ssh.commandTimeout)
        return true
    }

    private func absorb(_ script: ScriptReport, into report: inout TunnelEndReport) {
        report.changed = (script["changed"] ?? "").split(separator: ",").map(String.init)
        report.pid = script["pid"].flatMap { Int($0) }
        report.mode = script["mode"] ?? report.mode
        switch script.result {
        case "started": report.result = .started
        case "restarted": report.result = .restarted
        case "unchanged": report.result = .unchanged
        case "refused", "invalid": report.result = .refused; report.reason = script.reason
        default: report.result = .failed; report.reason = script.reason ?? "the install script ended with \(script.result ?? "no result")"
        }
    }

    /// On home: wait (bounded) until every agent is connected and the pool holds authenticated data connections.
    private func verify(_ plan: TunnelPlan, target: SSHTarget, jumps: JumpPool, report: inout TunnelReport) {
        let installed = plan.work.enumerated().filter { index, host in
            report.ends.contains { $0.role == .work && $0.host == host && $0.result.isSuccess }
        }.map { Self.agentName($0.element, index: $0.offset) }
        report.agentsExpected = plan.work.count
        do {
            let session = try SSHSession.connect(to: target, options: settings.ssh, jumps: jumps)
            defer { session.close() }
            let until = ContinuousClock.now + .milliseconds(Int64(settings.verifySeconds * 1000))
            var status: TunnelStatus?
            repeat {
                status = try? readStatus(TunnelEndPaths(tunnel: plan.name, role: .home), on: session)
                let connected = status?.connectedAgents.filter { installed.contains($0) }.count ?? 0
                if connected == installed.count, (status?.idleDataConnections ?? 0) > 0 { break }
                Thread.sleep(forTimeInterval: 0.25)
            } while ContinuousClock.now < until
            let connected = status?.connectedAgents.filter { installed.contains($0) } ?? []
            report.agentsConnected = connected.count
            report.idleDataConnections = status?.idleDataConnections
            report.verified = !installed.isEmpty && connected.count == plan.work.count && (status?.idleDataConnections ?? 0) > 0
            if report.verified == true {
                // One real client through the whole path: home links it to an agent, the agent reaches the service.
                let probe = try probe(plan, on: session)
                report.probe = probe.result
                if !probe.ok {
                    report.verified = false
                    report.reason = probe.result == "closed"
                        ? "a test connection through the tunnel was closed without a byte: work cannot reach \(plan.service)"
                        : "a test connection through the tunnel failed (\(probe.result))"
                }
            } else {
                let missing = installed.filter { !connected.contains($0) }
                report.reason = status == nil ? "home's status socket did not answer"
                    : missing.isEmpty ? (installed.count < plan.work.count ? "not every work host was installed" : "no data connection is open: the agents connect but cannot authenticate")
                    : "not connected after \(Int(settings.verifySeconds)) s: \(missing.joined(separator: ", "))"
            }
        } catch {
            report.verified = false
            report.reason = "checking home failed: \(Self.describe(error))"
        }
    }

    /// `fwtunnel-home --probe` on home: the outcome of one client connection through its probe socket.
    private func probe(_ plan: TunnelPlan, on session: SSHSession) throws -> (result: String, ok: Bool) {
        let paths = TunnelEndPaths(tunnel: plan.name, role: .home)
        let result = try session.run("\(paths.binary) --probe \(plan.name) --config \(paths.config)", asRoot: true, timeout: .seconds(30))
        struct Outcome: Decodable { var result: String }
        guard let outcome = try? JSONDecoder().decode(Outcome.self, from: Data(result.stdout)) else {
            throw TunnelDeployError("the probe printed no outcome (\(result.outcomeDescription)): \(String(result.stderrText.prefix(300)))")
        }
        return (outcome.result, result.succeeded)
    }

    /// One end's status document, read with the binary's `--status` over SSH (no socat needed on the host).
    public func readStatus(_ paths: TunnelEndPaths, on session: SSHSession) throws -> TunnelStatus {
        let result = try session.run("\(paths.binary) --status --config \(paths.config)", asRoot: true, timeout: .seconds(15))
        guard result.succeeded else {
            if result.status == 127 { throw TunnelDeployError("not installed (no \(paths.binary)): run `fwctl tunnel install`") }
            let said = result.stderrText.trimmingCharacters(in: .whitespacesAndNewlines)
            throw TunnelDeployError(said.isEmpty ? "not running (\(result.outcomeDescription))" : String(said.prefix(300)))
        }
        return try TunnelStatus(json: result.stdout)
    }

    // MARK: Uninstall and status

    /// Removes every end of the tunnel (work hosts first, then home), each on its own.
    public func uninstall(_ plan: TunnelPlan, targets: [String: SSHTarget], jumps: JumpPool,
                          events: (@Sendable (TunnelEvent) -> Void)? = nil) -> TunnelReport {
        let ends: [(String, TunnelRole)] = plan.work.map { ($0, .work) } + [(plan.home, .home)]
        let runner = HostRunner(parallelism: settings.parallelism)
        let jobs = ends.compactMap { end in targets[end.0].map { (end.1, $0) } }
        let results = runner.run(jobs.map(\.1), hostTimeout: settings.ssh.hostTimeout) { target, deadline in
            let role = jobs.first { $0.1 == target }!.0
            return timed(plan, host: target.name, role: role, events: events) { report in
                let session = try SSHSession.connect(to: target, options: settings.ssh, deadline: deadline, jumps: jumps)
                defer { session.close() }
                let paths = TunnelEndPaths(tunnel: plan.name, role: role)
                let removed = try settings.shell.run(try settings.scripts.uninstall(paths, host: target.name), on: session)
                report.changed = (removed["removed"] ?? "").split(separator: ",").map(String.init)
                switch removed.result {
                case "removed": report.result = .removed
                case "absent": report.result = .absent
                default: report.result = .failed; report.reason = removed.reason ?? "the uninstall script ended with \(removed.result ?? "no result")"
                }
            }.report
        }
        return TunnelReport(tunnel: plan.name, ends: results.enumerated().map { offset, result in
            result.outcome.value ?? TunnelEndReport(tunnel: plan.name, host: jobs[offset].1.name, role: jobs[offset].0, result: .failed,
                                                    reason: result.outcome.error.map(Self.describe))
        })
    }

    /// Each end's status: home's and every work host's status socket, read over SSH.
    public func status(_ plan: TunnelPlan, targets: [String: SSHTarget], jumps: JumpPool) -> [TunnelEndStatus] {
        let ends: [(String, TunnelRole)] = [(plan.home, .home)] + plan.work.map { ($0, .work) }
        let jobs = ends.compactMap { end in targets[end.0].map { (end.1, $0) } }
        let results = HostRunner(parallelism: settings.parallelism).run(jobs.map(\.1), hostTimeout: settings.ssh.hostTimeout) { target, deadline in
            let role = jobs.first { $0.1 == target }!.0
            let session = try SSHSession.connect(to: target, options: settings.ssh, deadline: deadline, jumps: jumps)
            defer { session.close() }
            return try readStatus(TunnelEndPaths(tunnel: plan.name, role: role), on: session)
        }
        return results.enumerated().map { offset, result in
            TunnelEndStatus(tunnel: plan.name, host: jobs[offset].1.name, role: jobs[offset].0, status: result.outcome.value,
                            error: result.outcome.error.map(Self.describe))
        }
    }

    // MARK: Helpers

    private func timed<Value>(_ plan: TunnelPlan, host: String, role: TunnelRole, events: (@Sendable (TunnelEvent) -> Void)?,
                              _ body: (inout TunnelEndReport) throws -> Value) -> (report: TunnelEndReport, value: Value?) {
        let started = ContinuousClock.now
        var report = TunnelEndReport(tunnel: plan.name, host: host, role: role, result: .failed)
        var value: Value?
        do {
            value = try body(&report)
        } catch let refusal as Refusal {
            report.result = .refused
            report.reason = refusal.description
        } catch {
            report.result = .failed
            report.reason = Self.describe(error)
        }
        report.seconds = (ContinuousClock.now - started).secondsDouble
        events?(TunnelEvent(tunnel: plan.name, host: host, role: role, step: "done", report: report))
        return (report, value)
    }

    static func describe(_ error: any Error) -> String {
        if let ssh = error as? SSHError { return "\(ssh.reason): \(ssh.message)" }
        return "\(error)"
    }
}

/// The host cannot run this end (its platform): nothing was written.
struct Refusal: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}
