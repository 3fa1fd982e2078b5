import Foundation
import Testing
import TestSupport
@testable import FWInventory

/// An inventory script is bounded in time together with everything it started.
@Suite struct ScriptLimitTests {
    @Test func aChildHoldingStdoutIsKilledWithTheScriptAtTheLimit() throws {
        let folder = try TemporaryFolder("fwctl-script-limit")
        defer { folder.remove() }
        let script = folder.path("inventory.sh")
        // The script prints a valid inventory and exits; the child it leaves keeps stdout open.
        try Data("""
            #!/bin/sh
            sleep 600 &
            echo $! > "\(folder.path("child.pid"))"
            echo '{"all": {"hosts": ["h1"]}}'
            """.utf8).write(to: URL(fileURLWithPath: script))
        chmod(script, 0o755)
        // A hang guard, not a speed check: without the group kill the load waits for the child (600 s).
        let outcome = LoadOutcome()
        let done = DispatchSemaphore(value: 0)
        Thread.detachNewThread {
            do { _ = try Inventory.load(script, options: LoadOptions(scriptTimeout: 1)) } catch { outcome.set(error) }
            done.signal()
        }
        let returned = done.wait(timeout: .now() + 30) == .success
        let pidText = try String(contentsOfFile: folder.path("child.pid"), encoding: .utf8)
        let child = try #require(pid_t(pidText.trimmingCharacters(in: .whitespacesAndNewlines)))
        guard returned else {
            kill(child, SIGKILL)
            Issue.record("the load did not return within 30 s of its 1 s limit: the script's child kept it waiting")
            return
        }
        let error = try #require(outcome.error as? InventoryError)
        #expect(error.message.contains("did not finish within 1 seconds"), "\(error)")
        // Killed with its group: gone (or a zombie about to be reaped by init) once the load has returned.
        var alive = kill(child, 0) == 0
        for _ in 0..<50 where alive {
            usleep(20_000)
            alive = kill(child, 0) == 0 && !Self.isZombie(child)
        }
        #expect(!alive, "the script's child \(child) outlived the limit")
        if alive { kill(child, SIGKILL) }
    }

    static func isZombie(_ pid: pid_t) -> Bool {
        guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
              let close = stat.lastIndex(of: ")") else { return true }
        return stat[stat.index(close, offsetBy: 2)] == "Z"
    }
}

private final class LoadOutcome: @unchecked Sendable {
    private let lock = NSLock()
    private var stored: Error?
    func set(_ error: Error) { lock.withLock { stored = error } }
    var error: Error? { lock.withLock { stored } }
}
