import CFWSystem
import FWBase
import Foundation

/// Writes rendered hosts under an output folder without ever leaving a half-written tree.
///
/// Everything is first written into a staging folder inside the output folder (same file system); only when every
/// host is written does each host folder take its place: a new one by a rename that refuses to overwrite, an
/// existing one by an atomic exchange. Before the first swap every existing host folder is checked to be a folder
/// that can be replaced, and if a swap still fails the swaps already done are undone, so across all hosts the
/// output is either the new tree or exactly the old one. If anything fails before that, the staging folder (and
/// any output folder this run created) is removed. SIGINT and SIGTERM remove the staging folder too, and a later
/// run removes staging folders that processes which no longer exist left behind.
///
/// Paths are plain strings and files are made with open(2): at 10,000 hosts, URL and FileManager overhead (a stat
/// per path) would cost more than the writes.
public final class OutputTree: Sendable {
    public let root: String
    private let staging: String
    /// Folders this run created to make `root` (outermost first), removed again when nothing is written.
    private let createdFolders: [String]
    private struct State {
        var staged: [String] = []
        /// Committed or discarded: the staging folder is gone.
        var finished = false
    }
    private let state = Locked(State())

    static let stagingPrefix = ".fwctl-staging-"

    public init(root: String) throws {
        self.root = root
        createdFolders = try Self.makeFolders(root)
        Self.removeStaleStaging(in: root)
        staging = "\(root)/\(Self.stagingPrefix)\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        do {
            try Self.makeDirectory(staging)
        } catch {
            Self.removeCreated(createdFolders)
            throw error
        }
        StagingCleanup.shared.register(staging)
    }

    deinit {
        if !state.withLock({ $0.finished }) { discard() }
    }

    /// Writes one host's files into the staging folder. Safe to call from several threads for different hosts.
    public func stage(host: String, files: [FileBytes]) throws {
        // Stopped by a signal: wait here for the handler to remove the staging folder and end the process, rather
        // than fail every remaining host with an error of its own.
        while StagingCleanup.shared.isTerminating { sleep(1) }
        if let problem = Self.folderNameProblem(host) {
            throw OutputTreeError(path: host, message: "the host name \(problem)")
        }
        let folder = "\(staging)/\(host)"
        try Self.makeDirectory(folder)
        for file in files {
            if let problem = Self.folderNameProblem(file.path) {
                throw OutputTreeError(path: "\(folder)/\(file.path)", message: "a rendered file's name \(problem)")
            }
            try Self.write(file, to: "\(folder)/\(file.path)")
        }
        state.withLock { $0.staged.append(host) }
    }

    /// Moves every staged host folder into place and removes what they replaced; on failure undoes what it did.
    public func commit() throws {
        let hosts = state.withLock { $0.staged }.sorted()  // one order every run, whatever order threads staged in
        for host in hosts { try Self.checkReplaceable("\(root)/\(host)") }
        var done: [(source: String, destination: String, exchanged: Bool)] = []
        for host in hosts {
            let source = "\(staging)/\(host)"
            let destination = "\(root)/\(host)"
            if fw_rename_noreplace(source, destination) == 0 {
                done.append((source, destination, false))
                continue
            }
            // The host has an earlier folder: swap them in one step; the old one lands in staging, removed below.
            if errno == EEXIST && fw_rename_exchange(source, destination) == 0 {
                done.append((source, destination, true))
                continue
            }
            let reason = String(cString: strerror(errno))
            let undone = Self.undo(done)
            discard()
            throw OutputTreeError(
                path: destination,
                message: reason + (undone ? "; nothing was changed" : "; some host folders could not be put back (see the staging folder)"))
        }
        state.withLock { $0.finished = true }
        StagingCleanup.shared.unregister(staging)
        try? FileManager.default.removeItem(atPath: staging)
    }

    /// Removes the staging folder, and the output folder if this run created it; the output is left as it was.
    public func discard() {
        state.withLock { $0.finished = true }
        StagingCleanup.shared.unregister(staging)
        try? FileManager.default.removeItem(atPath: staging)
        Self.removeCreated(createdFolders)
    }

    /// Why `name` cannot be a host's folder, or nil when it can: the one rule `check` and `render` share.
    public static func folderNameProblem(_ name: String) -> String? {
        if name.isEmpty || name == "." || name == ".." { return "'\(name)' cannot be a folder name" }
        if name.hasPrefix(".") { return "starts with '.', which would make its folder hidden" }
        if name.contains("/") { return "contains '/', which would make its folder a path" }
        if name.contains("\0") { return "contains NUL" }
        if name.utf8.count > 255 { return "is longer than 255 bytes, the longest folder name" }
        return nil
    }

    // MARK: Replacing safely

    /// An existing host folder must be a folder that a rename can move: not a file, not immutable or append-only.
    private static func checkReplaceable(_ path: String) throws {
        var info = stat()
        guard lstat(path, &info) == 0 else {
            if errno == ENOENT { return }
            throw OutputTreeError(path: path, message: String(cString: strerror(errno)))
        }
        guard info.st_mode & S_IFMT == S_IFDIR else {
            throw OutputTreeError(path: path, message: "it exists and is not a folder; nothing was changed")
        }
        let flags = fw_inode_flags(path)
        if flags >= 0 && flags & 0x30 != 0 {
            throw OutputTreeError(path: path, message: "it is \(flags & 0x10 != 0 ? "immutable" : "append-only") "
                + "(chattr), so it cannot be replaced; nothing was changed")
        }
    }

    /// Puts back what `commit` moved, last first. True when everything is back.
    private static func undo(_ done: [(source: String, destination: String, exchanged: Bool)]) -> Bool {
        var ok = true
        for step in done.reversed() {
            let result = step.exchanged ? fw_rename_exchange(step.source, step.destination) : rename(step.destination, step.source)
            if result != 0 { ok = false }
        }
        return ok
    }

    // MARK: Folders

    /// Makes `path` and its missing parents; returns the folders it created, outermost first.
    private static func makeFolders(_ path: String) throws -> [String] {
        var missing: [String] = []
        var current = path
        while !current.isEmpty {
            var info = stat()
            if stat(current, &info) == 0 {
                guard info.st_mode & S_IFMT == S_IFDIR else {
                    throw OutputTreeError(path: current, message: "it is a file, not a folder")
                }
                break
            }
            // ENOTDIR: a file further up; the walk reaches it and says so.
            guard errno == ENOENT || errno == ENOTDIR else {
                throw OutputTreeError(path: current, message: String(cString: strerror(errno)))
            }
            missing.append(current)
            let parent = PathComponents.folder(of: current)
            if parent == current { break }
            current = parent
        }
        var created: [String] = []
        for folder in missing.reversed() {
            guard mkdir(folder, 0o755) == 0 || errno == EEXIST else {
                let error = OutputTreeError(path: folder, message: String(cString: strerror(errno)))
                removeCreated(created)
                throw error
            }
            created.append(folder)
        }
        return created
    }

    /// Removes folders this run created, innermost first, only while they are empty.
    private static func removeCreated(_ folders: [String]) {
        for folder in folders.reversed() where rmdir(folder) != 0 { break }
    }

    /// Staging folders of processes that no longer exist (killed mid-render before this cleanup existed, or by
    /// SIGKILL). A folder whose process is alive is never touched.
    private static func removeStaleStaging(in root: String) {
        guard let entries = try? FileManager.default.contentsOfDirectory(atPath: root) else { return }
        for entry in entries where entry.hasPrefix(stagingPrefix) {
            let rest = entry.dropFirst(stagingPrefix.count)
            guard let pid = rest.split(separator: "-").first.flatMap({ pid_t($0) }), pid > 0 else { continue }
            if kill(pid, 0) != 0 && errno == ESRCH {
                try? FileManager.default.removeItem(atPath: "\(root)/\(entry)")
            }
        }
    }

    private static func makeDirectory(_ path: String) throws {
        guard mkdir(path, 0o755) == 0 else { throw OutputTreeError(path: path, message: String(cString: strerror(errno))) }
    }

    private static func write(_ file: FileBytes, to path: String) throws {
        let fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw OutputTreeError(path: path, message: String(cString: strerror(errno))) }
        defer { close(fd) }
        // The mode exactly, whatever the umask; set before any byte is written.
        guard fchmod(fd, mode_t(file.mode & 0o7777)) == 0 else {
            throw OutputTreeError(path: path, message: String(cString: strerror(errno)))
        }
        let bytes = file.bytes
        var offset = 0
        while offset < bytes.count {
            let n = bytes.withUnsafeBytes { Glibc.write(fd, $0.baseAddress! + offset, $0.count - offset) }
            if n < 0 {
                if errno == EINTR { continue }
                throw OutputTreeError(path: path, message: String(cString: strerror(errno)))
            }
            offset += n
        }
    }
}

public struct OutputTreeError: Error, Sendable, CustomStringConvertible {
    public var path: String
    public var message: String
    public var description: String { DisplayEscaping.escaped("cannot write \(path): \(message)") }
}

/// Staging folders in use by this process, removed when SIGINT or SIGTERM ends it mid-render.
/// @unchecked Sendable: the dispatch sources are not Sendable; every stored property is touched only under `lock`.
final class StagingCleanup: @unchecked Sendable {
    static let shared = StagingCleanup()
    private let lock = NSLock()
    private var folders: Set<String> = []
    private var sources: [DispatchSourceSignal] = []
    private var terminating = false
    /// Its own queue, so the handler runs at once even while the render keeps every pool thread busy.
    private let queue = DispatchQueue(label: "fwctl.staging-cleanup")

    /// True once a signal arrived: writers stop, so the folder being removed does not fill up again.
    var isTerminating: Bool { lock.withLock { terminating } }

    func register(_ folder: String) {
        lock.withLock {
            folders.insert(folder)
            if sources.isEmpty { installHandlers() }
        }
    }

    func unregister(_ folder: String) { _ = lock.withLock { folders.remove(folder) } }

    /// Called with the lock held, once.
    private func installHandlers() {
        for signalNumber in [SIGINT, SIGTERM] {
            signal(signalNumber, SIG_IGN)  // delivered to the dispatch source instead
            let source = DispatchSource.makeSignalSource(signal: signalNumber, queue: queue)
            source.setEventHandler { [self] in
                let staged = lock.withLock { () -> Set<String> in
                    terminating = true
                    return folders
                }
                for folder in staged {
                    // A writer may still add a file while the tree is removed: try again until it is gone.
                    for _ in 0..<20 where FileManager.default.fileExists(atPath: folder) {
                        try? FileManager.default.removeItem(atPath: folder)
                    }
                }
                // Then end as a process killed by it ends (status 128 + signal). Not by raising it again: the
                // dispatch source would catch it and run this handler once more.
                _exit(128 + signalNumber)
            }
            source.resume()
            sources.append(source)
        }
    }
}
