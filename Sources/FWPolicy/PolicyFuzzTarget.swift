import FWBase
import FWInventory
import FWTemplate
import Foundation

/// The policy compiler under fuzzing: inventory JSON in, every host compiled and rendered through the real
/// templates, and each rendered file checked. What `Fuzz/` (libFuzzer, `make fuzz-policy`) runs on every input and
/// what the policy fuzz regression tests run on the inputs kept in `Tests/FWPolicyTests/FuzzRegressions/`.
///
/// Checked: every output line comes from a template line (`TemplateLineShapes`), so no value injected a line or a
/// character a template did not put there; every failure is a located `PolicyError`; and, through `load`, every
/// file is accepted by the real netfilter tools.
@_spi(Fuzzing) public struct PolicyFuzzTarget: Sendable {
    /// Loads one host's files with the real tools; returns what they refused (empty when all loaded).
    public typealias Loader = @Sendable (HostFirewall, [FileBytes]) -> [String]

    /// Few hosts and small inputs keep each run well inside libFuzzer's timeout.
    static let maxHosts = 64

    let renderer: FirewallRenderer
    let shapes: TemplateLineShapes

    public init(templatesDirectory: String) throws {
        renderer = try FirewallRenderer(templatesDirectory: templatesDirectory, generator: "fwctl fuzz")
        var texts: [String] = []
        let files = FileManager.default.enumerator(atPath: templatesDirectory)?.allObjects as? [String] ?? []
        for file in files.sorted() where file.hasSuffix(".mustache") {
            texts.append(try String(contentsOfFile: "\(templatesDirectory)/\(file)", encoding: .utf8))
        }
        shapes = TemplateLineShapes(templates: texts)
    }

    /// Problems found with the inventory in `bytes` (empty when it is refused cleanly or renders correctly).
    public func exercise(_ bytes: [UInt8], load: Loader? = nil) -> [String] {
        guard let text = String(validating: bytes, as: UTF8.self) else { return [] }
        let inventory: Inventory
        do {
            inventory = try Inventory.parse(yaml: text, file: "fuzz.json", options: LoadOptions(scriptTimeout: 1, maxHosts: Self.maxHosts))
        } catch {
            return []
        }
        let hosts = inventory.hosts.prefix(Self.maxHosts).map(\.name)
        let fleet = FleetRender(compiler: PolicyCompiler(setThreshold: 3), renderer: renderer)
        var problems: [String] = []
        for result in fleet.runCollectingFiles(hosts: hosts, inventory: inventory) {
            switch result.outcome {
            case .failed(let errors):
                for error in errors where error.message.isEmpty || (error.kind == .invalid && error.path == nil) {
                    problems.append("\(result.host): an error without a path or message: \(error)")
                }
            case .rendered(let firewall, let files):
                for file in files {
                    if let line = shapes.firstForeignLine(in: file.bytes) {
                        problems.append("\(result.host)/\(file.name): a line no template line makes: \(line.debugDescription)")
                    }
                }
                problems += load?(firewall, files).map { "\(result.host): \($0)" } ?? []
            case .unmanaged:
                break
            }
        }
        return problems
    }
}

extension FleetRender {
    /// A rendered host with its files' bytes (for the fuzz target, which checks them).
    public struct HostFiles: Sendable {
        public enum Outcome: Sendable {
            case rendered(HostFirewall, [FileBytes])
            case unmanaged
            case failed([PolicyError])
        }

        public var host: String
        public var outcome: Outcome
    }

    /// Like `run`, keeping each host's files.
    public func runCollectingFiles(hosts: [String], inventory: Inventory) -> [HostFiles] {
        let collected = CollectedFiles()
        let results = run(hosts: hosts, inventory: inventory) { host, files in collected.store(host, files) }
        return results.map { result in
            switch result.outcome {
            case .rendered(let firewall, _): return HostFiles(host: result.host, outcome: .rendered(firewall, collected.files(of: result.host)))
            case .unmanaged: return HostFiles(host: result.host, outcome: .unmanaged)
            case .failed(let errors): return HostFiles(host: result.host, outcome: .failed(errors))
            }
        }
    }
}

private final class CollectedFiles: Sendable {
    private let byHost = Locked<[String: [FileBytes]]>([:])

    func store(_ host: String, _ files: [FileBytes]) { byHost.withLock { $0[host] = files } }
    func files(of host: String) -> [FileBytes] { byHost.withLock { $0[host] ?? [] } }
}
