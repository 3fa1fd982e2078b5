import FWCommandLine
import FWDeploy
import Foundation
import Synchronization

/// Progress of a deploy on stderr: on a terminal one status line rewritten in place (done, failed, running and
/// the step each running host is at); otherwise one plain line per finished host. Silent with --quiet.
final class DeployProgress: Sendable {
    private struct State {
        var running: [String: DeployStep] = [:]
        var order: [String] = []
        var done = 0
        var failed = 0
    }

    private let verb: String
    private let total: Int
    private let quiet: Bool
    private let live = Terminal.stderrIsTTY
    private let state = Mutex(State())

    init(verb: String, total: Int, quiet: Bool) {
        self.verb = verb
        self.total = total
        self.quiet = quiet
    }

    var callback: @Sendable (DeployEvent) -> Void { { [self] event in handle(event) } }

    /// A message between progress lines (Ctrl-C notices): clears the live line first.
    func notice(_ text: String) {
        Terminal.writeStderr((live && !quiet ? "\r\u{1B}[K" : "") + "fwctl: \(text)\n")
    }

    private func handle(_ event: DeployEvent) {
        guard !quiet else { return }
        state.withLock { state in
            if let report = event.report {
                state.running[event.host] = nil
                state.order.removeAll { $0 == event.host }
                state.done += 1
                if !report.result.isSuccess { state.failed += 1 }
                if !live {
                    let generation = report.generation.map { ", generation \($0)" } ?? ""
                    let time = String(format: "%.2f s", report.seconds)
                    let reason = report.result.isSuccess ? "" : report.reason.map { ": \($0)" } ?? ""
                    Terminal.writeStderr("fwctl: [\(state.done)/\(total)] \(event.host): \(report.result.rawValue)\(generation) (\(time))\(reason)\n")
                }
            } else {
                if state.running[event.host] == nil { state.order.append(event.host) }
                state.running[event.host] = event.step
            }
            if live {
                let colour = Terminal.stderrSupportsColour
                let failed = state.failed == 0 ? "" : ", " + Terminal.paint("\(state.failed) failed", .red, enabled: colour)
                let shown = state.order.prefix(4).map { "\($0): \(state.running[$0]?.rawValue ?? "")" }
                let more = state.order.count > 4 ? ", +\(state.order.count - 4)" : ""
                let running = state.order.isEmpty ? "" : "; \(state.order.count) running (\(shown.joined(separator: ", "))\(more))"
                var line = "\(verb): \(state.done)/\(total) done\(failed)\(running)"
                if line.count > 160 { line = String(line.prefix(157)) + "..." }
                Terminal.writeStderr("\r\u{1B}[K\(line)")
                if state.done == total { Terminal.writeStderr("\n") }
            }
        }
    }
}
