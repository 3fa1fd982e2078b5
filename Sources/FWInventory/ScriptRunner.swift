import FWBase
import Foundation

/// Runs an inventory script and returns its stdout, reading stdout and stderr together (a script that writes a
/// lot to stderr must not block), killing it and every process of its group after `timeout` seconds.
enum ScriptRunner {
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
        // Each pipe is read to its end by a blocking read on a thread of our own.
        let readers: [(thread: WorkerThread, output: Locked<Data>)]
        do {
            readers = try [out, err].map { pipe in
                let output = Locked(Data())
                let thread = try WorkerThread(stackSize: 1 << 20) {
                    let data = pipe.fileHandleForReading.readDataToEndOfFile()
                    output.withLock { $0 = data }
                }
                return (thread, output)
            }
        } catch {
            process.terminate()
            throw InventoryError("cannot run inventory script `\(command)`: \(error)", at: origin)
        }
        let deadline = ContinuousClock.now + .milliseconds(Int64(timeout * 1000))
        if !readers.allSatisfy({ $0.thread.join(timeout: deadline - ContinuousClock.now) }) {
            // The script may be gone while a child it started still holds stdout open: kill the whole process
            // group (Foundation starts each child as the leader of its own group), so the pipes close now.
            kill(-process.processIdentifier, SIGKILL)
            kill(process.processIdentifier, SIGKILL)
            for reader in readers { _ = reader.thread.join(timeout: .seconds(1)) }
            process.waitUntilExit()
            throw InventoryError(
                "inventory script `\(command)` did not finish within \(Int(timeout)) seconds (it, or a process it "
                    + "started, kept its output open); it and its process group were killed", at: origin)
        }
        process.waitUntilExit()
        let stdout = readers[0].output.withLock { $0 }
        let stderrText = String(decoding: readers[1].output.withLock { $0 }, as: UTF8.self)
            .trimmingCharacters(in: .whitespacesAndNewlines)
        if process.terminationReason == .uncaughtSignal || process.terminationStatus != 0 {
            let how = process.terminationReason == .uncaughtSignal
                ? "was killed by signal \(process.terminationStatus)" : "exited with status \(process.terminationStatus)"
            throw InventoryError(
                "inventory script `\(command)` \(how)", at: origin,
                hint: stderrText.isEmpty ? "run it yourself to see why" : "it said: \(stderrText)")
        }
        return [UInt8](stdout)
    }
}
