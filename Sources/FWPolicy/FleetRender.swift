import FWBase
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

    public struct HostRenderResult: Sendable {
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
        hosts: [String], inventory: Inventory, sink: (@Sendable (String, [FileBytes]) throws -> Void)? = nil
    ) -> [HostRenderResult] {
        let addressBook = AddressBook(inventory: inventory, resolution: resolution)
        return ParallelRunner(parallelism: ProcessInfo.processInfo.activeProcessorCount).map(hosts) { _, host in
            HostRenderResult(host: host, outcome: outcome(of: host, addressBook: addressBook, sink: sink))
        }
    }

    private func outcome(of host: String, addressBook: AddressBook,
                         sink: (@Sendable (String, [FileBytes]) throws -> Void)?) -> Outcome {
        do throws(PolicyErrors) {
            guard let firewall = try compiler.compile(host: host, addressBook: addressBook) else { return .unmanaged }
            let files: [FileBytes]
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
            return .rendered(firewall, files.map { FileSummary(name: $0.path, byteCount: $0.bytes.count) })
        } catch {
            return .failed(error.errors)
        }
    }
}
