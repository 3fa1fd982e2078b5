import Dispatch
import Foundation
import FWInventory
import FWTemplate

/// Compiles and renders many hosts in parallel, keeping every host's result in input order.
public struct FleetRender: Sendable {
    /// A written file's name and size; the bytes go to the sink and are not kept, so a fleet's output never has
    /// to fit in memory at once.
    public struct FileSummary: Sendable, Equatable {
        public var name: String
        public var byteCount: Int
    }

    public enum Outcome: Sendable {
        case rendered(HostFirewall, [FileSummary])
        /// The host has no `firewall` var: fwctl leaves it alone.
        case unmanaged
        case failed([PolicyError])
    }

    public struct HostResult: Sendable {
        public var host: String
        public var outcome: Outcome
    }

    public var compiler: PolicyCompiler
    public var renderer: FirewallRenderer
    public var resolution: AddressBook.Resolution

    public init(compiler: PolicyCompiler, renderer: FirewallRenderer, resolution: AddressBook.Resolution = .literalsOnly) {
        self.compiler = compiler
        self.renderer = renderer
        self.resolution = resolution
    }

    /// Compiles and renders each host; `sink` (if given) receives each rendered host as soon as it is ready, from
    /// any thread (used to stage files while other hosts still render). A failing sink fails that host with an
    /// `.output` problem.
    public func run(
        hosts: [String], inventory: Inventory, sink: (@Sendable (String, [RenderedFile]) throws -> Void)? = nil
    ) -> [HostResult] {
        let addressBook = AddressBook(inventory: inventory, resolution: resolution)
        let results = ResultSlots(count: hosts.count)
        // Chunks keep scheduling overhead low when there are thousands of small hosts.
        let chunk = max(1, hosts.count / 64)
        let chunks = (hosts.count + chunk - 1) / chunk
        DispatchQueue.concurrentPerform(iterations: chunks) { c in
            for index in (c * chunk)..<min(hosts.count, (c + 1) * chunk) {
                let host = hosts[index]
                results.store(HostResult(host: host, outcome: outcome(of: host, addressBook: addressBook, sink: sink)), at: index)
            }
        }
        return results.values()
    }

    private func outcome(of host: String, addressBook: AddressBook,
                         sink: (@Sendable (String, [RenderedFile]) throws -> Void)?) -> Outcome {
        do throws(PolicyErrors) {
            guard let firewall = try compiler.compile(host: host, addressBook: addressBook) else { return .unmanaged }
            let files: [RenderedFile]
            do {
                files = try renderer.render(firewall)
            } catch {
                throw PolicyErrors([PolicyError(.template, host: host, message: "\(error)")])
            }
            do {
                try sink?(host, files)
            } catch {
                throw PolicyErrors([PolicyError(.output, host: host, message: "\(error)")])
            }
            return .rendered(firewall, files.map { FileSummary(name: $0.name, byteCount: $0.bytes.count) })
        } catch {
            return .failed(error.errors)
        }
    }
}

/// Fixed slots written once each from worker threads.
private final class ResultSlots: @unchecked Sendable {
    private var slots: [FleetRender.HostResult?]
    private let lock = NSLock()

    init(count: Int) { slots = Array(repeating: nil, count: count) }

    func store(_ result: FleetRender.HostResult, at index: Int) {
        lock.withLock { slots[index] = result }
    }

    func values() -> [FleetRender.HostResult] {
        lock.withLock { slots.map { $0! } }
    }
}
