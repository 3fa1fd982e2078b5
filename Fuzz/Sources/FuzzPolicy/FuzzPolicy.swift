import FWBase
@_spi(Fuzzing) import FWPolicy
import Foundation

/// libFuzzer entry point: any bytes as an inventory (JSON, or YAML), every host compiled and rendered through the
/// repository's templates by `PolicyFuzzTarget.exercise` (the same code the policy fuzz regression tests run), and
/// every distinct rendered file loaded with the real tools in this process's own network namespace.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzPolicy(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let bytes = data.map { Array(UnsafeBufferPointer(start: $0, count: size)) } ?? []
    let problems = PolicyFuzzHarness.target.exercise(bytes, load: PolicyFuzzHarness.loader)
    precondition(problems.isEmpty, problems.joined(separator: "\n"))
    return 0
}

enum PolicyFuzzHarness {
    static let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    nonisolated(unsafe) static var target: PolicyFuzzTarget = {
        do {
            return try PolicyFuzzTarget(templatesDirectory: repository.appendingPathComponent("templates").path)
        } catch {
            fatalError("cannot load the templates: \(error)")
        }
    }()
    /// Set once before the driver starts: nil when this process has no network namespace of its own.
    nonisolated(unsafe) static var loader: PolicyFuzzTarget.Loader?

    /// Loads files only when the process runs in a network namespace of its own (`make fuzz-policy` starts it
    /// with `unshare --net`; the namespace ends with the process), so rules never touch the machine's netfilter.
    /// Elsewhere files are checked but not loaded, and it says so.
    static func isolate() {
        guard NetfilterLoader.inOwnNamespace() else {
            FileHandle.standardError.write(Data("FuzzPolicy: not in a network namespace of its own (run it with `unshare --net`): files are checked, not loaded\n".utf8))
            return
        }
        let folder = "/dev/shm/fwctl-fuzz-policy-\(getpid())"
        try? FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        atexit { try? FileManager.default.removeItem(atPath: "/dev/shm/fwctl-fuzz-policy-\(getpid())") }
        let loaded = NetfilterLoader(folder: folder)
        loader = { firewall, files in loaded.load(firewall, files) }
    }
}

/// Loads files with the real tools, each distinct set of files once.
final class NetfilterLoader: @unchecked Sendable {
    let folder: String
    private let lock = NSLock()
    private var seen = Set<Int>()

    init(folder: String) { self.folder = folder }

    /// True when this thread's network namespace has no interface but loopback: a fresh one (`unshare --net`),
    /// never the machine's own, whose netfilter must not be touched. (/proc/1 may be hidden in a container, so
    /// this does not compare with PID 1's namespace.)
    static func inOwnNamespace() -> Bool {
        guard let text = try? String(contentsOfFile: "/proc/thread-self/net/dev", encoding: .utf8) else { return false }
        let interfaces = text.split(separator: "\n").dropFirst(2).compactMap { line in
            line.split(separator: ":").first.map { $0.trimmingCharacters(in: .whitespaces) }
        }
        return interfaces == ["lo"]
    }

    func load(_ firewall: HostFirewall, _ files: [FileBytes]) -> [String] {
        // Only ever in a namespace of our own: the thread that spawns the tools must not share init's.
        guard Self.inOwnNamespace() else {
            return ["refusing to load rules: this thread is in the machine's own network namespace"]
        }
        let key = files.map(\.bytes).hashValue
        guard lock.withLock({ seen.count < 200_000 && seen.insert(key).inserted }) else { return [] }
        var paths: [String: String] = [:]
        for file in files {
            let path = "\(folder)/\(file.name)"
            FileManager.default.createFile(atPath: path, contents: Data(file.bytes))
            paths[file.name] = path
        }
        var problems: [String] = []
        /// posix_spawn and waitpid: Foundation's Process waits on a run loop whose socket pair cannot be made in
        /// a fresh namespace, so it would hang.
        func run(_ arguments: [String]) {
            let errorPath = "\(folder)/stderr"
            var actions = posix_spawn_file_actions_t()
            posix_spawn_file_actions_init(&actions)
            defer { posix_spawn_file_actions_destroy(&actions) }
            posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
            posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0)
            posix_spawn_file_actions_addopen(&actions, 2, errorPath, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
            let argv: [UnsafeMutablePointer<CChar>?] = (["/usr/bin/env", "PATH=/usr/sbin:/usr/bin:/sbin:/bin"] + arguments).map { strdup($0) } + [nil]
            defer { argv.forEach { free($0) } }
            var pid = pid_t()
            guard posix_spawn(&pid, "/usr/bin/env", &actions, nil, argv, environ) == 0 else {
                problems.append("cannot run \(arguments[0])")
                return
            }
            var status: Int32 = 0
            while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
            if status != 0 {
                let message = (try? String(contentsOfFile: errorPath, encoding: .utf8)) ?? ""
                problems.append("\(arguments.joined(separator: " ")) (status \(status)): \(message)")
            }
        }
        for command in LoadCommands.commands(for: firewall.target, paths: paths) { run(command) }
        return problems
    }
}

// SwiftPM links an executable with `--defsym main=<Module>_main`, and -parse-as-library leaves that symbol
// undefined, so libFuzzer's own main never gets linked in. Provide it and hand over to libFuzzer's driver.
@_silgen_name("LLVMFuzzerRunDriver")
private func runFuzzerDriver(
    _ argc: UnsafeMutablePointer<CInt>,
    _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?>,
    _ callback: @convention(c) (UnsafePointer<UInt8>?, Int) -> CInt
) -> CInt

@_cdecl("FuzzPolicy_main")
public func fuzzPolicyMain(
    _ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?
) -> CInt {
    PolicyFuzzHarness.isolate()
    var argc = argc
    var argv = argv
    return runFuzzerDriver(&argc, &argv) { data, size in fuzzPolicy(data, size) }
}
