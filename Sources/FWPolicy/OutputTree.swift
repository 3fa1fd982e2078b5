import CFWSystem
import FWBase
import Foundation

/// Writes rendered hosts under an output folder without ever leaving a half-written tree.
///
/// Everything is first written into a staging folder inside the output folder (same file system); only when every
/// host is written does each host folder take its place: a new one by a rename that refuses to overwrite, an
/// existing one by an atomic exchange. If anything fails before that, the staging folder is removed and the output
/// folder is exactly as it was. Paths are plain strings and files are made with open(2): at 10,000 hosts, URL
/// and FileManager overhead (a stat per path) would cost more than the writes.
public final class OutputTree: Sendable {
    public let root: String
    private let staging: String
    private struct State {
        var staged: [String] = []
        /// Committed or discarded: the staging folder is gone.
        var finished = false
    }
    private let state = Locked(State())

    public init(root: String) throws {
        self.root = root
        try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
        staging = "\(root)/.fwctl-staging-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        try Self.makeDirectory(staging)
    }

    deinit {
        if !state.withLock({ $0.finished }) { discard() }
    }

    /// Writes one host's files into the staging folder. Safe to call from several threads for different hosts.
    public func stage(host: String, files: [FileBytes]) throws {
        guard Self.isSafeFolderName(host) else {
            throw OutputTreeError(path: host, message: "the host name cannot be used as a folder name")
        }
        let folder = "\(staging)/\(host)"
        try Self.makeDirectory(folder)
        for file in files {
            guard Self.isSafeFolderName(file.path) else {
                throw OutputTreeError(path: "\(folder)/\(file.path)", message: "a rendered file's name must be one plain name")
            }
            try Self.write(file, to: "\(folder)/\(file.path)")
        }
        state.withLock { $0.staged.append(host) }
    }

    /// Moves every staged host folder into place and removes what they replaced.
    public func commit() throws {
        let hosts = state.withLock { $0.staged }
        for host in hosts {
            let source = "\(staging)/\(host)"
            let destination = "\(root)/\(host)"
            if fw_rename_noreplace(source, destination) == 0 { continue }
            // The host has an earlier folder: swap them in one step; the old one lands in staging, removed below.
            guard errno == EEXIST, fw_rename_exchange(source, destination) == 0 else {
                throw OutputTreeError(path: destination, message: String(cString: strerror(errno)))
            }
        }
        state.withLock { $0.finished = true }
        try? FileManager.default.removeItem(atPath: staging)
    }

    /// Removes the staging folder; the output folder is left as it was.
    public func discard() {
        state.withLock { $0.finished = true }
        try? FileManager.default.removeItem(atPath: staging)
    }

    static func isSafeFolderName(_ name: String) -> Bool {
        // Byte checks: String.contains(String) goes through Foundation's search, twice per file of 10,000 hosts.
        !name.isEmpty && name.utf8.first != UInt8(ascii: ".") && !name.utf8.contains(UInt8(ascii: "/"))
            && !name.utf8.contains(0) && name.utf8.count <= 255
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
