import FWBase
import Foundation

/// group_vars/ and host_vars/ beside each inventory source, found and read as Ansible's `host_group_vars` plugin
/// does: `NAME`, `NAME.yml`, `NAME.yaml` or `NAME.json` (the first that exists wins), and when that is a
/// directory, every file in it (recursively, in name order; hidden files, backups `~` and other extensions
/// skipped). Each file is JSON or YAML holding a mapping of variables.
struct VarsFiles {
    enum Kind: String {
        case group = "group_vars"
        case host = "host_vars"
    }

    static let extensions = [".yml", ".yaml", ".json"]

    /// Whether a name in a vars directory can hold vars (Ansible's `_get_dir_files`): not hidden, not a backup
    /// (`~`), and without an extension or with one of `extensions`.
    static func isVarsName(_ name: String) -> Bool {
        guard !name.hasPrefix("."), !name.hasSuffix("~") else { return false }
        let ext = InventoryLoader.fileExtension(name)
        return ext.isEmpty || extensions.contains(ext)
    }

    /// The directories given (inventory directories or the directories of inventory files).
    let bases: [String]
    /// Directory listings, read once: `base/group_vars` -> its entries.
    private var listings: [String: Set<String>] = [:]
    /// Entries that were read for some group or host, to find the unused ones.
    private var used: Set<String> = []

    /// Files read ahead, in parallel, while the inventory sources are parsed.
    private var prefetched: VarsFilePrefetch?

    init(bases: [String]) {
        self.bases = bases
    }

    /// Starts reading every vars file under the bases on worker threads. Errors are kept until the file is
    /// needed: a broken file for a group that does not exist is ignored, as in Ansible.
    mutating func startPrefetch() {
        var paths: [String] = []
        for base in bases {
            for kind in [Kind.group, .host] {
                let directory = (base as NSString).appendingPathComponent(kind.rawValue)
                for entry in entries(of: directory).sorted() where Self.isVarsName(entry) {
                    paths += Self.files(at: (directory as NSString).appendingPathComponent(entry))
                }
            }
        }
        if !paths.isEmpty { prefetched = VarsFilePrefetch(paths: paths) }
    }

    private func readUsingPrefetch(_ path: String) throws -> VarTable? {
        if let result = prefetched?.result(for: path) { return try result.get() }
        return try Self.read(path)
    }

    private mutating func entries(of directory: String) -> Set<String> {
        if let cached = listings[directory] { return cached }
        var isDirectory: ObjCBool = false
        let names: Set<String>
        if FileManager.default.fileExists(atPath: directory, isDirectory: &isDirectory), isDirectory.boolValue,
            let list = try? FileManager.default.contentsOfDirectory(atPath: directory)
        {
            names = Set(list)
        } else {
            names = []
        }
        listings[directory] = names
        return names
    }

    /// The vars files of a group or host, per base, in load order; each file's variables with their lines.
    mutating func load(kind: Kind, name: String) throws -> [[VarTable]] {
        // Names that are not plain file names (a host called "../x" or "/srv/chroot") never name a vars file.
        guard !name.isEmpty, !name.utf8.contains(UInt8(ascii: "/")), name != ".", name != ".." else { return bases.map { _ in [] } }
        var result: [[VarTable]] = []
        for base in bases {
            let directory = (base as NSString).appendingPathComponent(kind.rawValue)
            let names = entries(of: directory)
            var tables: [VarTable] = []
            if !names.isEmpty, let entry = ([""] + Self.extensions).lazy.map({ name + $0 }).first(where: names.contains) {
                used.insert((directory as NSString).appendingPathComponent(entry))
                for file in Self.files(at: (directory as NSString).appendingPathComponent(entry)) {
                    if let table = try readUsingPrefetch(file) { tables.append(table) }
                }
            }
            result.append(tables)
        }
        return result
    }

    /// A file, or every vars file under a directory.
    static func files(at path: String) -> [String] {
        var visited: Set<DirectoryIdentity> = []
        return files(at: path, visited: &visited)
    }

    /// A directory as the kernel knows it: two paths through links name the same directory exactly when these match
    /// (comparing resolved path strings is not enough: a path too deep in a link loop may not resolve at all).
    struct DirectoryIdentity: Hashable {
        let device: UInt64
        let inode: UInt64
    }

    private static func files(at path: String, visited: inout Set<DirectoryIdentity>) -> [String] {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else { return [] }
        guard isDirectory.boolValue else { return [path] }
        var status = stat()
        guard stat(path, &status) == 0,
            visited.insert(DirectoryIdentity(device: UInt64(status.st_dev), inode: UInt64(status.st_ino))).inserted
        else { return [] }  // a link loop, or a folder that vanished
        let names = (try? FileManager.default.contentsOfDirectory(atPath: path)) ?? []
        var found: [String] = []
        for name in names.sorted(by: { $0.utf8.lexicographicallyPrecedes($1.utf8) }) where isVarsName(name) {
            let full = (path as NSString).appendingPathComponent(name)
            var entryIsDirectory: ObjCBool = false
            guard FileManager.default.fileExists(atPath: full, isDirectory: &entryIsDirectory) else { continue }
            if !entryIsDirectory.boolValue {
                found.append(full)
            } else if InventoryLoader.fileExtension(name).isEmpty {  // as in Ansible, x.yml/ is not read
                found += files(at: full, visited: &visited)
            }
        }
        return found
    }

    /// One vars file: nil when empty (Ansible skips empty files), else its top-level variables.
    static func read(_ path: String) throws -> VarTable? {
        let bytes: [UInt8]
        do {
            bytes = try LocalFile.readBytes(path)
        } catch {
            throw InventoryError("cannot read vars file (\(error.reason))", at: FileLocation(file: path),
                                 hint: "check its permissions")
        }
        if bytes.starts(with: Array("$ANSIBLE_VAULT;".utf8)) {
            throw InventoryError(
                "the vars file is encrypted with ansible-vault, which fwctl cannot decrypt", at: FileLocation(file: path),
                hint: "keep secrets fwctl does not need in a separate file, or decrypt this one")
        }
        guard let text = String(validating: bytes, as: UTF8.self) else {
            throw InventoryError("the vars file is not valid UTF-8", at: FileLocation(file: path), hint: "save it as UTF-8")
        }
        var value: InventoryValue
        var keyLines: [String: Int]
        if JSONReader.looksLikeJSON(bytes), let document = try? JSONReader.parse(bytes) {
            (value, keyLines) = (document.value, document.keyLines)
        } else {
            do {
                let document = try YAMLReader.parse(text)
                (value, keyLines) = (document.value, document.keyLines)
            } catch let failure as YAMLReader.Failure {
                throw InventoryError(failure.message, at: FileLocation(file: path, line: failure.line, column: failure.column))
            }
        }
        switch value {
        case .dict(let vars):
            if vars.isEmpty { return nil }
            var table = VarTable()
            for (key, v) in vars {
                table.set(key, v, at: FileLocation(file: path, line: keyLines[key]))
            }
            return table
        case .null, .bool(false), .int(0), .string(""), .list([]):
            return nil  // Python-false content is skipped, as Ansible does
        case .double(let d) where d == 0:
            return nil
        default:
            throw InventoryError(
                "a vars file must hold a mapping of variables, not \(value.kindDescription)", at: FileLocation(file: path),
                hint: "write it as 'name: value' lines")
        }
    }

    /// Files under group_vars/ and host_vars/ that belong to no group or host, or that are shadowed by another
    /// file of the same name (`web` wins over `web.yml`): legal, but their vars are never used.
    mutating func unusedFileWarnings(groups: Set<String>, hosts: Set<String>) -> [String] {
        var warnings: [String] = []
        for base in bases {
            for kind in [Kind.group, .host] {
                let directory = (base as NSString).appendingPathComponent(kind.rawValue)
                for entry in entries(of: directory).sorted() where Self.isVarsName(entry) {
                    let full = (directory as NSString).appendingPathComponent(entry)
                    if used.contains(full) { continue }
                    let ext = InventoryLoader.fileExtension(entry)
                    let name = Self.extensions.contains(ext) ? String(entry.dropLast(ext.count)) : entry
                    let known = kind == .group ? groups.contains(name) : hosts.contains(name)
                    if known {
                        warnings.append("\(full): not read, because another file for \(kind == .group ? "group" : "host") '\(name)' comes first (NAME, NAME.yml, NAME.yaml, NAME.json)")
                    } else {
                        warnings.append("\(full): there is no \(kind == .group ? "group" : "host") named '\(name)' in the inventory, so these vars are not used")
                    }
                }
            }
        }
        return warnings
    }
}

/// Reads vars files on a few threads in the background while the inventory sources are parsed (with large stacks:
/// YAML parsing recurses per nesting level).
final class VarsFilePrefetch: Sendable {
    private let reader: WorkerThread?
    private let results = Locked<[String: Result<VarTable?, InventoryError>]>([:])

    init(paths: [String]) {
        let workers = max(1, min(ProcessInfo.processInfo.activeProcessorCount, 4, paths.count / 16 + 1))
        let runner = ParallelRunner(parallelism: workers, stackSize: WorkerThread.deepRecursionStackSize / 4)
        let results = self.results
        // Without a thread for the run, nothing is prefetched: each file is read when it is needed.
        reader = try? WorkerThread {
            let read = runner.map(paths) { _, path -> Result<VarTable?, InventoryError> in
                do {
                    return .success(try VarsFiles.read(path))
                } catch let error as InventoryError {
                    return .failure(error)
                } catch {
                    return .failure(InventoryError("\(error)", at: FileLocation(file: path)))
                }
            }
            results.withLock { results in
                for (path, result) in zip(paths, read) { results[path] = result }
            }
        }
    }

    /// The file's result once all are read, or nil if it was not among the prefetched files.
    func result(for path: String) -> Result<VarTable?, InventoryError>? {
        reader?.join()
        return results.withLock { $0[path] }
    }
}
