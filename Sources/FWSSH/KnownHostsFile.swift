import FWBase
import Foundation
import Logging
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// The lines of an OpenSSH known_hosts file, sorted into what libssh2 can read and what it cannot.
///
/// `libssh2_knownhost_readfile` stops at the first line it cannot parse, so one `@cert-authority` line or one
/// `sk-ssh-ed25519@openssh.com` key would silently hide every entry after it. FWSSH therefore reads the file itself
/// and hands libssh2 one line at a time (`libssh2_knownhost_readline`), keeping the real line numbers for messages.
struct KnownHostsSnapshot: Sendable {
    struct Line: Sendable {
        var number: Int
        var text: String
    }

    struct Revoked: Sendable {
        var number: Int
        var key: PublicKey
    }

    var path: String
    /// Lines to give libssh2, in file order.
    var entries: [Line] = []
    /// `@revoked` keys: refused for every host.
    var revoked: [Revoked] = []
    /// Lines left out, with the reason (logged at debug level).
    var skipped: [(line: Int, reason: String)] = []

    /// Key types libssh2 1.10 parses in known_hosts.
    static let supportedKeyTypes: Set<String> = [
        "ssh-ed25519", "ecdsa-sha2-nistp256", "ecdsa-sha2-nistp384", "ecdsa-sha2-nistp521", "ssh-rsa", "ssh-dss",
    ]

    init(path: String, contents: String?) {
        self.path = path
        guard let contents else { return }
        var number = 0
        // "\r\n" is one Character in Swift, so both line ends are named: files edited on Windows still work.
        for line in contents.split(omittingEmptySubsequences: false, whereSeparator: { $0 == "\n" || $0 == "\r\n" }) {
            number += 1
            let trimmed = line.drop { $0 == " " || $0 == "\t" }
            if trimmed.isEmpty || trimmed.hasPrefix("#") { continue }
            let fields = trimmed.split(whereSeparator: { $0 == " " || $0 == "\t" })
            if let marker = fields.first, marker.hasPrefix("@") {
                if marker == "@revoked", fields.count >= 4, let key = PublicKey(base64: String(fields[3])) {
                    revoked.append(Revoked(number: number, key: key))
                } else if marker == "@cert-authority" {
                    skipped.append((number, "@cert-authority entries are not supported (libssh2 1.10 has no certificates)"))
                } else {
                    skipped.append((number, "marker \(marker) is not understood"))
                }
                continue
            }
            guard fields.count >= 3 else {
                skipped.append((number, "fewer than three fields (hosts, key type, key)"))
                continue
            }
            let keyType = String(fields[1])
            guard Self.supportedKeyTypes.contains(keyType) else {
                skipped.append((number, "key type \(keyType) is not supported by libssh2 1.10"))
                continue
            }
            guard PublicKey(base64: String(fields[2])) != nil else {
                skipped.append((number, "the key is not valid base64"))
                continue
            }
            if fields[0].contains(where: { "*?!".contains($0) }) {
                skipped.append((number, "host patterns (*, ?, !) are not matched; only the literal names on the line count"))
            }
            entries.append(Line(number: number, text: String(trimmed)))
        }
    }
}

/// Process-wide access to known_hosts files: a cached snapshot per path (reloaded when the file changes on disk)
/// and serialised appends for accept-new.
final class KnownHostsStore: Sendable {
    static let shared = KnownHostsStore()

    private struct FileStamp: Equatable, Sendable {
        var device: UInt64, inode: UInt64, size: Int64, seconds: Int, nanoseconds: Int
    }

    private struct Cached: Sendable {
        var stamp: FileStamp?
        var snapshot: KnownHostsSnapshot
    }

    private let cache = Mutex<[String: Cached]>([:])
    /// Held while appending, so two hosts accepted at once write whole lines one after the other.
    private let appendLock = Mutex<Void>(())

    /// The current contents of `path`, parsed; a missing file is an empty snapshot.
    func snapshot(path: String, logger: Logger) -> KnownHostsSnapshot {
        let stamp = Self.stamp(path)
        if let cached = cache.withLock({ $0[path] }), cached.stamp == stamp { return cached.snapshot }
        let contents = stamp == nil ? nil : (try? String(contentsOfFile: path, encoding: .utf8))
        let snapshot = KnownHostsSnapshot(path: path, contents: contents)
        for (line, reason) in snapshot.skipped {
            logger.debug("known_hosts \(path) line \(line) ignored: \(reason)")
        }
        cache.withLock { $0[path] = Cached(stamp: stamp, snapshot: snapshot) }
        return snapshot
    }

    /// Appends `line` to the file, creating it (and its directory) with owner-only permissions if absent. Existing
    /// lines are never rewritten: the file is opened O_APPEND, locked with flock against other processes, and the
    /// line goes out in one write(2). A line already present is not added twice.
    func append(line: String, to path: String) throws -> Bool {
        try appendLock.withLock { _ in
            let directory = PathComponents.folder(of: path)
            if !directory.isEmpty, !FileManager.default.fileExists(atPath: directory) {
                try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true,
                                                        attributes: [.posixPermissions: 0o700])
            }
            let fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0o600)
            guard fd >= 0 else { throw KnownHostsWriteError(path: path, reason: TCPConnector.errnoText()) }
            defer { close(fd) }
            guard flock(fd, LOCK_EX) == 0 else { throw KnownHostsWriteError(path: path, reason: TCPConnector.errnoText()) }
            defer { flock(fd, LOCK_UN) }

            let existing = (try? String(contentsOfFile: path, encoding: .utf8)) ?? ""
            if existing.split(separator: "\n").contains(where: { $0 == line }) { return false }
            var text = line + "\n"
            if !existing.isEmpty, !existing.hasSuffix("\n") { text = "\n" + text }
            let bytes = Array(text.utf8)
            let written = bytes.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
            guard written == bytes.count else { throw KnownHostsWriteError(path: path, reason: "short write: \(TCPConnector.errnoText())") }
            _ = fsync(fd)
            return true
        }
    }

    private static func stamp(_ path: String) -> FileStamp? {
        var info = stat()
        guard stat(path, &info) == 0 else { return nil }
        return FileStamp(device: UInt64(info.st_dev), inode: UInt64(info.st_ino), size: Int64(info.st_size),
                         seconds: info.st_mtim.tv_sec, nanoseconds: info.st_mtim.tv_nsec)
    }
}

struct KnownHostsWriteError: Error, CustomStringConvertible {
    var path: String
    var reason: String
    var description: String { "cannot add the host key to \(path): \(reason)" }
}
