import FWCommandLine
import FWPolicy
import Foundation

/// What render and check print on stdout: one row per host, as a table or as JSON.
struct RenderSummary {
    enum Status: String, Codable {
        /// render wrote the host's files; check found nothing wrong.
        case rendered, ok
        /// The host has no firewall var.
        case unmanaged
        /// The policy or a template is wrong; the rules would lock the operators out; the files could not be written.
        case invalid, lockout, failed
    }

    struct Row: Codable {
        var host: String
        var status: Status
        var target: String?
        var rulesV4: Int?
        var rulesV6: Int?
        var sets: Int?
        var files: [String]?
        var problems: [String]?
        /// Warnings that did not stop the host.
        var notes: [String]?
    }

    let rows: [Row]
    let outputDirectory: String?

    var rendered: [Row] { rows.filter { $0.target != nil } }

    init(results: [FleetRender.HostRenderResult], outputDirectory: String?) {
        self.outputDirectory = outputDirectory
        rows = results.map { result in
            switch result.outcome {
            case .rendered(let firewall, let files):
                return Row(
                    host: result.host, status: outputDirectory == nil ? .ok : .rendered,
                    target: firewall.target.rawValue, rulesV4: firewall.rules(.v4).count,
                    rulesV6: firewall.rules(.v6).count, sets: firewall.sets.count,
                    files: files.map { file in outputDirectory.map { "\($0)/\(result.host)/\(file.name)" } ?? file.name },
                    problems: nil, notes: firewall.notes.isEmpty ? nil : firewall.notes.map(\.withoutHost.description))
            case .unmanaged:
                return Row(host: result.host, status: .unmanaged)
            case .failed(let errors):
                let status: Status = PolicyErrors(errors).includesInvalidInput ? .invalid
                    : errors.allSatisfy { $0.kind == .lockout } ? .lockout : .failed
                return Row(host: result.host, status: status, problems: errors.map(\.description))
            }
        }
    }

    func table() -> String {
        let header = ["HOST", "TARGET", "V4", "V6", "SETS", outputDirectory == nil ? "RESULT" : "FILES"]
        var lines = [header]
        for row in rows {
            var last: String
            switch row.status {
            case .rendered: last = (row.files ?? []).map { $0.split(separator: "/").last.map(String.init) ?? $0 }.joined(separator: " ")
            case .unmanaged: last = "skipped: no firewall var"
            case .ok: last = "ok"
            case .invalid, .lockout, .failed:
                last = "\(row.status.rawValue): \(row.problems?.count ?? 0) problem\(row.problems?.count == 1 ? "" : "s")"
            }
            if let notes = row.notes, !notes.isEmpty { last += " (\(notes.count) warning\(notes.count == 1 ? "" : "s"))" }
            lines.append([row.host, row.target ?? "-", row.rulesV4.map(String.init) ?? "-",
                          row.rulesV6.map(String.init) ?? "-", row.sets.map(String.init) ?? "-", last])
        }
        return TextTable.render(lines)
    }

    func json() throws -> [UInt8] {
        struct Document: Codable {
            var output: String?
            var hosts: [Row]
        }
        return try Terminal.json(Document(output: outputDirectory, hosts: rows))
    }
}
