import Foundation

/// Runs an inventory script and returns its stdout, reading stdout and stderr together (a script that writes a
/// lot to stderr must not block), killing it and every process of its group after `timeout` seconds.
enum ScriptRunner {
    private final class Collected: @unchecked Sendable {
        let lock = NSLock()
        var stdout = Data()
        var stderr = Data()
    }

    static func run(_ path: String, _ arguments: [String], timeout: Double) throws -> [UInt8] {
        let origin = FileLocation(file: path)
        let command = ([path] + arguments).joined(separator: " ")
        let process = Process()
        process.executableURL = URL(fileURLWithPath: path)
        process.arguments = arguments
        let out = Pipe(), err = Pipe()
        process.standardOutput = out
        process.standardError = err
        process.standardInput = FileHandle.nullDevice
        do {
            try process.run()
        } catch {
            throw InventoryError("cannot run inventory script `\(command)`: \(error.localizedDescription)", at: origin)
        }
        let collected = Collected()
        let readers = DispatchGroup()
        for (pipe, isStdout) in [(out, true), (err, false)] {
            readers.enter()
            DispatchQueue.global().async {
                let data = pipe.fileHandleForReading.readDataToEndOfFile()
                collected.lock.lock()
                if isStdout { collected.stdout = data } else { collected.stderr = data }
                collected.lock.unlock()
                readers.leave()
            }
        }
        if readers.wait(timeout: .now() + timeout) == .timedOut {
            // The script may be gone while a child it started still holds stdout open: kill the whole process
            // group (Foundation starts each child as the leader of its own group), so the pipes close now.
            kill(-process.processIdentifier, SIGKILL)
            kill(process.processIdentifier, SIGKILL)
            _ = readers.wait(timeout: .now() + 1)
            process.waitUntilExit()
            throw InventoryError(
                "inventory script `\(command)` did not finish within \(Int(timeout)) seconds (it, or a process it "
                    + "started, kept its output open); it and its process group were killed", at: origin)
        }
        process.waitUntilExit()
        collected.lock.lock()
        defer { collected.lock.unlock() }
        let stderrText = String(decoding: collected.stderr, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        if process.terminationReason == .uncaughtSignal || process.terminationStatus != 0 {
            let how = process.terminationReason == .uncaughtSignal
                ? "was killed by signal \(process.terminationStatus)" : "exited with status \(process.terminationStatus)"
            throw InventoryError(
                "inventory script `\(command)` \(how)", at: origin,
                hint: stderrText.isEmpty ? "run it yourself to see why" : "it said: \(stderrText)")
        }
        return [UInt8](collected.stdout)
    }
}
