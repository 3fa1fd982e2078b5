import CFWSystem
import Foundation

/// Writes rendered hosts under an output folder without ever leaving a half-written tree.
///
/// Everything is first written into a staging folder inside the output folder (same file system); only when every
/// host is written does each host folder replace its old version with one atomic exchange. If anything fails
/// before that, the staging folder is removed and the output folder is exactly as it was.
public final class OutputTree: @unchecked Sendable {
    public let root: URL
    private let staging: URL
    private let lock = NSLock()
    private var staged: [String] = []
    private var finished = false

    public init(root: URL) throws {
        self.root = root
        try FileManager.default.createDirectory(at: root, withIntermediateDirectories: true)
        staging = root.appendingPathComponent(".fwctl-staging-\(getpid())-\(UInt32.random(in: 0...UInt32.max))")
        try FileManager.default.createDirectory(at: staging, withIntermediateDirectories: false)
    }

    deinit {
        if !finished { discard() }
    }

    /// Writes one host's files into the staging folder. Safe to call from several threads for different hosts.
    public func stage(host: String, files: [RenderedFile]) throws {
        guard Self.isSafeFolderName(host) else {
            throw OutputTreeError(path: host, message: "the host name cannot be used as a folder name")
        }
        let folder = staging.appendingPathComponent(host)
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: false)
        for file in files {
            let path = folder.appendingPathComponent(file.name).path
            try Self.write(file.bytes, to: path)
        }
        lock.withLock { staged.append(host) }
    }

    /// Moves every staged host folder into place and removes what they replaced.
    public func commit() throws {
        let hosts = lock.withLock { staged }
        for host in hosts {
            let source = staging.appendingPathComponent(host).path
            let destination = root.appendingPathComponent(host).path
            // RENAME_EXCHANGE swaps the folders in one step; the old one lands in staging and is removed with it.
            if fw_rename_exchange(source, destination) != 0 {
                guard errno == ENOENT, rename(source, destination) == 0 else {
                    throw OutputTreeError(path: destination, message: String(cString: strerror(errno)))
                }
            }
        }
        finished = true
        try? FileManager.default.removeItem(at: staging)
    }

    /// Removes the staging folder; the output folder is left as it was.
    public func discard() {
        finished = true
        try? FileManager.default.removeItem(at: staging)
    }

    static func isSafeFolderName(_ name: String) -> Bool {
        !name.isEmpty && name != "." && name != ".." && !name.hasPrefix(".") && !name.contains("/") && !name.contains("\0")
            && name.utf8.count <= 255
    }

    private static func write(_ bytes: [UInt8], to path: String) throws {
        let fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw OutputTreeError(path: path, message: String(cString: strerror(errno))) }
        defer { close(fd) }
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
    public var description: String { "cannot write \(path): \(message)" }
}
