import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Everything a lab made, recorded in `state.json` before each step that makes it, so `lab down` finds all of it
/// even when `lab up` was killed half-way.
public struct LabState: Codable, Sendable {
    public struct Host: Codable, Sendable {
        public var plan: LabHostPlan
        /// The host's lab number: stable while it is up, names its folder and its link on the bridge.
        public var index: Int
        public var namespace: String
        /// The link's name in the switch namespace (the host's own end is `eth0`).
        public var link: String
        /// The host's sshd, once started.
        public var sshdPID: Int32?
    }

    public struct Controller: Codable, Sendable {
        public var namespace: String
        public var link: String
        public var addresses: [String]
        /// Its addresses and routes are configured (false while `lab up` is still wiring it).
        public var ready: Bool?
    }

    public var version = 1
    public var name: String
    /// The inventory sources `lab up` was given (absolute paths), and its --limit.
    public var inventory: [String]
    public var limit: String?
    public var switchNamespace: String
    public var controller: Controller?
    public var hosts: [Host]
    public var nextIndex: Int

    static func path(of lab: LabName) -> String { lab.stateDirectory + "/state.json" }

    /// The lab's state, or nil when there is no lab of that name.
    public static func load(_ lab: LabName) throws(LabError) -> LabState? {
        let path = path(of: lab)
        guard FileManager.default.fileExists(atPath: path) else { return nil }
        do {
            return try JSONDecoder().decode(LabState.self, from: Data(contentsOf: URL(fileURLWithPath: path)))
        } catch {
            throw LabError("\(path) is not readable lab state: \(error)",
                           hint: "`fwctl lab down --name \(lab)` removes what it can find by name")
        }
    }

    /// Writes the state atomically (a reader sees the old or the new file, never half of one), 0600.
    func save(_ lab: LabName) throws(LabError) {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        let path = Self.path(of: lab)
        do {
            try LabFiles.write(try encoder.encode(self), to: path, mode: 0o600)
        } catch let error as LabError {
            throw error
        } catch {
            throw LabError("cannot write \(path): \(error)")
        }
    }

    /// Every namespace the lab may have made.
    var namespaces: [String] {
        hosts.map(\.namespace) + (controller.map { [$0.namespace] } ?? []) + [switchNamespace]
    }
}

/// Small file operations with the modes the lab needs.
enum LabFiles {
    /// Writes through a temporary file and a rename, with `mode`.
    static func write(_ data: Data, to path: String, mode: mode_t = 0o644) throws(LabError) {
        let temporary = path + ".tmp\(getpid())"
        let fd = open(temporary, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode)
        guard fd >= 0 else { throw LabError("cannot write \(path): \(String(cString: strerror(errno)))") }
        let ok = data.withUnsafeBytes { buffer -> Bool in
            var offset = 0
            while offset < buffer.count {
                let n = Glibc.write(fd, buffer.baseAddress! + offset, buffer.count - offset)
                if n <= 0 { if n < 0 && errno == EINTR { continue }; return false }
                offset += n
            }
            return true
        }
        fchmod(fd, mode)
        close(fd)
        guard ok, rename(temporary, path) == 0 else {
            unlink(temporary)
            throw LabError("cannot write \(path): \(String(cString: strerror(errno)))")
        }
    }

    static func write(_ text: String, to path: String, mode: mode_t = 0o644) throws(LabError) {
        try write(Data(text.utf8), to: path, mode: mode)
    }

    static func makeDirectory(_ path: String, mode: mode_t = 0o755) throws(LabError) {
        do {
            try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        } catch {
            throw LabError("cannot create \(path): \(error.localizedDescription)")
        }
        chmod(path, mode)
    }

    static func read(_ path: String) -> String? {
        guard let data = FileManager.default.contents(atPath: path) else { return nil }
        return String(decoding: data, as: UTF8.self)
    }
}

/// The lab's state folder is a tmpfs of its own: the hosts' writable layers are many small folders, and a lab
/// that vanishes with a reboot (as its namespaces do) is right. `down` unmounts it, which drops everything in it at
/// once (removing the layers file by file takes seconds per 50 hosts on a disk).
enum LabStateFolder {
    static func create(_ lab: LabName) throws(LabError) {
        let path = lab.stateDirectory
        try LabFiles.makeDirectory(path, mode: 0o755)
        guard !isMountPoint(path) else { return }
        guard mount("fwctl-lab", path, "tmpfs", UInt(MS_NOSUID | MS_NODEV), "mode=0755") == 0 else {
            throw LabError("cannot mount a tmpfs on \(path): \(String(cString: strerror(errno)))")
        }
    }

    static func remove(_ lab: LabName) throws(LabError) {
        let path = lab.stateDirectory
        if isMountPoint(path) && umount2(path, 0) != 0 && umount2(path, Int32(MNT_DETACH)) != 0 {
            throw LabError("cannot unmount \(path): \(String(cString: strerror(errno)))")
        }
        do {
            try FileManager.default.removeItem(atPath: path)
        } catch {
            throw LabError("cannot remove \(path): \(error.localizedDescription)")
        }
    }

    /// True when `path` is the root of a mount (its device differs from its parent's).
    static func isMountPoint(_ path: String) -> Bool {
        var own = stat(), parent = stat()
        guard stat(path, &own) == 0, stat(path + "/..", &parent) == 0 else { return false }
        return own.st_dev != parent.st_dev
    }
}
