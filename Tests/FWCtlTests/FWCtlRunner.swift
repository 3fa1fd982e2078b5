import Foundation
import TestSupport

/// Runs the built fwctl as a user runs it, with the repository's templates and no inventory from the environment.
func runFWCtl(_ arguments: [String], timeout: TimeInterval = 120) throws -> ProcessResult {
    var env = ProcessInfo.processInfo.environment
    env["FWCTL_INVENTORY"] = nil
    env["FWCTL_TEMPLATES"] = RepoPaths.root.appendingPathComponent("templates").path
    return try runProcess(RepoPaths.fwctl.path, arguments, environment: env, timeout: timeout)
}
