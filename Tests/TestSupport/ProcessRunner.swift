import Foundation

/// What a finished child process left behind.
public struct ProcessResult: Sendable {
    public var status: Int32
    /// True when the process was killed by a signal (then `status` is the signal number).
    public var signalled: Bool
    public var stdout: Data
    public var stderr: Data
    public var timedOut: Bool

    public var stdoutText: String { String(decoding: stdout, as: UTF8.self) }
    public var stderrText: String { String(decoding: stderr, as: UTF8.self) }
}

public struct ProcessRunnerError: Error, CustomStringConvertible {
    public var description: String
}

/// Runs a program to completion, reading stdout and stderr at the same time so neither pipe can fill and
/// block the child. The child is killed once `timeout` seconds have passed.
@discardableResult
public func runProcess(
    _ executable: String,
    _ arguments: [String] = [],
    environment: [String: String]? = nil,
    stdin: Data? = nil,
    currentDirectory: URL? = nil,
    timeout: TimeInterval = 120
) throws -> ProcessResult {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: executable.contains("/") ? executable : try which(executable))
    process.arguments = arguments
    if let environment { process.environment = environment }
    if let currentDirectory { process.currentDirectoryURL = currentDirectory }

    let outPipe = Pipe(), errPipe = Pipe(), inPipe = Pipe()
    process.standardOutput = outPipe
    process.standardError = errPipe
    process.standardInput = stdin == nil ? FileHandle.nullDevice : inPipe

    try process.run()

    let collected = CollectedOutput()
    let group = DispatchGroup()
    for (pipe, isStdout) in [(outPipe, true), (errPipe, false)] {
        group.enter()
        Thread.detachNewThread {
            let data = pipe.fileHandleForReading.readDataToEndOfFile()
            collected.store(data, stdout: isStdout)
            group.leave()
        }
    }
    if let stdin {
        Thread.detachNewThread {
            try? inPipe.fileHandleForWriting.write(contentsOf: stdin)
            try? inPipe.fileHandleForWriting.close()
        }
    }

    var timedOut = false
    if group.wait(timeout: .now() + timeout) == .timedOut {
        timedOut = true
        process.terminate()
        kill(process.processIdentifier, SIGKILL)
        _ = group.wait(timeout: .now() + 5)
    }
    process.waitUntilExit()
    let output = collected.snapshot()
    return ProcessResult(
        status: process.terminationStatus,
        signalled: process.terminationReason == .uncaughtSignal,
        stdout: output.stdout,
        stderr: output.stderr,
        timedOut: timedOut
    )
}

/// Runs a shell command line with `/bin/sh -c`.
@discardableResult
public func runShell(_ command: String, timeout: TimeInterval = 120) throws -> ProcessResult {
    try runProcess("/bin/sh", ["-c", command], timeout: timeout)
}

/// The full path of a program on PATH, or an error naming it.
public func which(_ name: String) throws -> String {
    let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
    for dir in path.split(separator: ":").map(String.init) + ["/usr/sbin", "/sbin"] {
        let candidate = "\(dir)/\(name)"
        if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
    }
    throw ProcessRunnerError(description: "\(name) not found on PATH")
}

private final class CollectedOutput: @unchecked Sendable {
    private let lock = NSLock()
    private var out = Data(), err = Data()

    func store(_ data: Data, stdout: Bool) {
        lock.lock(); defer { lock.unlock() }
        if stdout { out = data } else { err = data }
    }

    func snapshot() -> (stdout: Data, stderr: Data) {
        lock.lock(); defer { lock.unlock() }
        return (out, err)
    }
}
