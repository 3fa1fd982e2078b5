import Foundation
import Testing

/// Gates integration tests on what the machine can do. Outside CI an unmet requirement cancels the test with a
/// visible reason; with `CI=true` it fails the test instead, so CI never passes by skipping.
public enum Integration {
    public enum Requirement: Sendable, CustomStringConvertible {
        case root
        case networkNamespaces
        case command(String)
        case path(String)

        public var description: String {
            switch self {
            case .root: return "root"
            case .networkNamespaces: return "network namespaces (ip netns)"
            case .command(let name): return "the command \(name)"
            case .path(let path): return path
            }
        }
    }

    public static var isCI: Bool { ProcessInfo.processInfo.environment["CI"] == "true" }

    /// The first unmet requirement, described, or nil when all are met.
    public static func unmet(_ requirements: [Requirement]) -> String? {
        for requirement in requirements {
            switch requirement {
            case .root:
                if geteuid() != 0 { return "needs root" }
            case .networkNamespaces:
                if geteuid() != 0 || (try? which("ip")) == nil { return "needs root and iproute2 for network namespaces" }
            case .command(let name):
                if (try? which(name)) == nil { return "needs \(name) on PATH (make test installs it)" }
            case .path(let path):
                if !FileManager.default.fileExists(atPath: path) { return "needs \(path)" }
            }
        }
        return nil
    }

    /// Call first in an integration test.
    public static func require(_ requirements: Requirement..., sourceLocation: SourceLocation = #_sourceLocation) throws {
        try require(requirements, sourceLocation: sourceLocation)
    }

    public static func require(_ requirements: [Requirement], sourceLocation: SourceLocation = #_sourceLocation) throws {
        guard let reason = unmet(requirements) else { return }
        if isCI {
            throw IntegrationUnavailable(reason: "\(reason), and CI=true does not allow skipping")
        }
        try Test.cancel("skipped: \(reason)", sourceLocation: sourceLocation)
    }
}

public struct IntegrationUnavailable: Error, CustomStringConvertible {
    public var reason: String
    public var description: String { "integration test cannot run: \(reason)" }
}
