import FWSSH
import Foundation
import Synchronization

/// How many hosts one batch holds: a count or a share of the selected hosts.
public enum BatchSize: Sendable, Equatable {
    case count(Int)
    case percent(Double)

    /// `5` or `20%`.
    public init?(_ text: String) {
        if text.hasSuffix("%") {
            guard let value = Double(text.dropLast()), value > 0, value <= 100 else { return nil }
            self = .percent(value)
        } else {
            guard let value = Int(text), value > 0 else { return nil }
            self = .count(value)
        }
    }

    func hosts(of total: Int) -> Int {
        switch self {
        case .count(let n): return max(1, n)
        case .percent(let p): return max(1, Int((Double(total) * p / 100).rounded(.up)))
        }
    }
}

/// A progress event: a host moved to a step, or finished.
public struct DeployEvent: Sendable {
    public var host: String
    public var step: DeployStep
    /// Set when the host finished.
    public var report: HostReport?
}

/// Set from a signal handler (or a test) to stop starting hosts; hosts already running finish or roll back.
public final class StopSignal: Sendable {
    private let state = Mutex<String?>(nil)
    public init() {}
    public func stop(_ reason: String) { state.withLock { if $0 == nil { $0 = reason } } }
    public var reason: String? { state.withLock { $0 } }
}

/// Runs hosts in canary, batch and max-fail order, many at once within a batch.
public struct FleetDeployer: Sendable {
    public var settings: DeploySettings
    public var parallelism: Int = 20
    /// These many hosts (the first selected) first, alone; if any fails, no other host starts.
    public var canary: Int = 0
    public var batch: BatchSize?
    /// Stop starting hosts once more than this share of all hosts has failed (0-100).
    public var maxFailPercent: Double?

    public init(settings: DeploySettings) { self.settings = settings }

    public func run(_ jobs: [HostJob], stop: StopSignal = StopSignal(),
                    events: (@Sendable (DeployEvent) -> Void)? = nil) -> [HostReport] {
        let deployer = HostDeployer(settings: settings)
        let failures = FailureCount()
        let total = jobs.count
        var reports: [HostReport?] = Array(repeating: nil, count: total)
        var groups: [Range<Int>] = []
        let canaryCount = min(canary, total)
        if canaryCount > 0 { groups.append(0..<canaryCount) }
        let size = batch?.hosts(of: total) ?? max(1, total - canaryCount)
        var start = canaryCount
        while start < total {
            groups.append(start..<min(total, start + size))
            start += size
        }
        let maxFail = maxFailPercent
        // One pool for the run: the hosts behind a bastion share its sessions (each host's connections are new ones).
        let jumps = JumpPool(options: settings.ssh)
        defer { jumps.close() }

        for (number, group) in groups.enumerated() {
            let isCanary = canaryCount > 0 && number == 0
            for wave in Self.jumpHostsFirst(Array(group), of: jobs) {
                let slice = wave.map { jobs[$0] }
                let runner = HostRunner(parallelism: parallelism)
                let results = runner.run(slice.map(\.target), hostTimeout: settings.ssh.hostTimeout) { target, deadline in
                    let job = slice.first { $0.target == target }!
                    if let why = Self.reasonNotToStart(stop: stop, failures: failures, total: total, maxFail: maxFail) {
                        var report = HostReport(host: job.target.name, address: job.target.address, target: job.firewallTarget,
                                                action: settings.action, result: .skipped, reason: why)
                        report.seconds = 0
                        events?(DeployEvent(host: job.target.name, step: .done, report: report))
                        return report
                    }
                    let report = deployer.run(job, deadline: deadline, jumps: jumps) { step in
                        events?(DeployEvent(host: job.target.name, step: step, report: nil))
                    }
                    if !report.result.isSuccess { failures.add() }
                    events?(DeployEvent(host: job.target.name, step: .done, report: report))
                    return report
                }
                for (offset, result) in results.enumerated() {
                    reports[wave[offset]] = result.outcome.value
                }
            }
            if isCanary, failures.value > 0 {
                stop.stop("not started: a canary host failed")
            }
        }
        return reports.enumerated().map { index, report in
            report ?? HostReport(host: jobs[index].target.name, address: jobs[index].target.address,
                                 target: jobs[index].firewallTarget, action: settings.action, result: .failed,
                                 reason: "no result")
        }
    }

    /// `indices` in waves: the jump hosts of other selected hosts first (the outermost of a chain before the next),
    /// then the rest, each wave in selection order. A jump host's rules change while no session runs through it:
    /// changing a bastion's rules under live inner sessions (its new rules loaded, conntrack picking the flows up
    /// mid-stream) could stall them, and a bastion that fails or rolls back is known before its hosts start.
    static func jumpHostsFirst(_ indices: [Int], of jobs: [HostJob]) -> [[Int]] {
        var rank = [Int](repeating: 0, count: jobs.count)
        for job in jobs {
            for (position, jump) in job.target.jumps.enumerated() {
                let distance = job.target.jumps.count - position
                for index in indices where jobs[index].target.reaches(sameHostAs: jump) {
                    rank[index] = max(rank[index], distance)
                }
            }
        }
        let ranks = Set(indices.map { rank[$0] }).sorted(by: >)
        return ranks.map { wanted in indices.filter { rank[$0] == wanted } }
    }

    private static func reasonNotToStart(stop: StopSignal, failures: FailureCount, total: Int, maxFail: Double?) -> String? {
        if let reason = stop.reason { return reason }
        if let maxFail {
            let failed = failures.value
            if Double(failed) * 100 > maxFail * Double(total) {
                return "not started: \(failed) of \(total) hosts failed, more than --max-fail \(maxFail.formatted())%"
            }
        }
        return nil
    }
}

private extension Double {
    func formatted() -> String { self == rounded() ? String(Int(self)) : String(self) }
}

extension SSHTarget {
    /// The same host at the same SSH endpoint (a jump host of the inventory carries its own name and address).
    func reaches(sameHostAs other: SSHTarget) -> Bool {
        address == other.address && port == other.port
    }
}

/// Failed hosts so far, shared by a run's worker threads.
final class FailureCount: Sendable {
    private let count = Mutex(0)
    func add() { count.withLock { $0 += 1 } }
    var value: Int { count.withLock { $0 } }
}
