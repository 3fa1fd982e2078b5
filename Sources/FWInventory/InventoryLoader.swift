import FWBase
import Foundation

/// How inventories are loaded.
public struct LoadOptions: Sendable {
    /// Seconds an inventory script may run before it is killed and the load fails.
    public var scriptTimeout: Double
    /// Most hosts the whole inventory may hold, every source and range together (`h[000000:999999]` is an error at
    /// once, not seconds of work and gigabytes). 100,000 is ten times the largest fleet benchmarked here.
    public var maxHosts: Int

    public static let defaultMaxHosts = 100_000

    public init(scriptTimeout: Double = 120, maxHosts: Int = LoadOptions.defaultMaxHosts) {
        self.scriptTimeout = scriptTimeout
        self.maxHosts = maxHosts
    }
}

extension Inventory {
    /// Loads inventory sources as `ansible-inventory -i SOURCE -i SOURCE2 ...` does: each one a file (INI, YAML,
    /// JSON, or an executable script), a directory of such files, or a comma-separated host list (`a,b,`), then
    /// group_vars/ and host_vars/ beside each source.
    public static func load(_ sources: [String], options: LoadOptions = LoadOptions()) throws -> Inventory {
        // Deeply nested YAML recurses deeply in the parser: load on a thread with room for it.
        try WorkerThread.run(stackSize: WorkerThread.deepRecursionStackSize) {
            var loader = InventoryLoader(options: options)
            return try loader.load(sources)
        }
    }

    public static func load(_ source: String, options: LoadOptions = LoadOptions()) throws -> Inventory {
        try load([source], options: options)
    }

    /// An inventory from INI text alone (no files are read; no group_vars). `file` names it in errors.
    public static func parse(ini text: String, file: String = "<inventory>", options: LoadOptions = LoadOptions()) throws -> Inventory {
        var builder = InventoryBuilder()
        builder.maxHosts = options.maxHosts
        try INIInventoryParser.parse(Array(text.utf8), file: file, into: &builder, maxHosts: options.maxHosts)
        return InventoryLoader.finish(sources: [file], warnings: [], builder: builder)
    }

    /// An inventory from YAML inventory text alone (no group_vars).
    public static func parse(yaml text: String, file: String = "<inventory>", options: LoadOptions = LoadOptions()) throws -> Inventory {
        try WorkerThread.run(stackSize: WorkerThread.deepRecursionStackSize) {
            var loader = InventoryLoader(options: options)
            try loader.loadStructured(Array(text.utf8), file: file, kind: .yaml)
            return InventoryLoader.finish(sources: [file], warnings: loader.warnings, builder: loader.builder)
        }
    }
}

/// Reads sources into an `InventoryBuilder` the way Ansible's InventoryManager picks plugins for them.
struct InventoryLoader {
    let options: LoadOptions
    var builder = InventoryBuilder()
    var warnings: [String] = []
    /// Directories whose group_vars/ and host_vars/ apply, in source order.
    var varsBases: [String] = []

    init(options: LoadOptions) {
        self.options = options
        builder.maxHosts = options.maxHosts
    }

    static func finish(sources: [String], warnings: [String], builder: InventoryBuilder) -> Inventory {
        var builder = builder
        builder.reconcile()
        return Inventory(
            sources: sources, warnings: warnings, builder: builder,
            groupFiles: builder.groups.map { _ in [] }, hostFiles: builder.hosts.map { _ in [] })
    }

    mutating func load(_ sources: [String]) throws -> Inventory {
        guard !sources.isEmpty else {
            throw InventoryError("no inventory given", hint: "pass one with -i PATH")
        }
        // group_vars/ and host_vars/ beside each source: start reading them while the sources are parsed.
        for source in sources {
            var isDirectory: ObjCBool = false
            guard FileManager.default.fileExists(atPath: source, isDirectory: &isDirectory) else { continue }
            let base = isDirectory.boolValue ? source : PathComponents.folder(of: source)
            let normalized = base.isEmpty ? "." : base
            if !varsBases.contains(normalized) { varsBases.append(normalized) }
        }
        var varsFiles = VarsFiles(bases: varsBases)
        varsFiles.startPrefetch()

        for source in sources {
            var isDirectory: ObjCBool = false
            if FileManager.default.fileExists(atPath: source, isDirectory: &isDirectory) {
                if isDirectory.boolValue { try loadDirectory(source) } else { try loadFile(source) }
            } else if source.utf8.contains(UInt8(ascii: ",")) {
                try loadHostList(source)
            } else {
                throw InventoryError(
                    "inventory source '\(source)' does not exist",
                    hint: "pass an inventory file or directory with -i, or a comma-separated host list such as 'host1,host2,'")
            }
        }
        builder.reconcile()
        let groupFiles = try builder.groups.map { try varsFiles.load(kind: .group, name: $0.name) }
        let hostFiles = try builder.hosts.map { try varsFiles.load(kind: .host, name: $0.name) }
        warnings += varsFiles.unusedFileWarnings(groups: Set(builder.groupIndex.keys), hosts: Set(builder.hostIndex.keys))
        warnings += builder.hosts.filter(\.groups.isEmpty).map {
            "\($0.declaredAt.map { "\($0): " } ?? "")host '\($0.name)' is in no group (its group 'ungrouped' is a child of another group), "
                + "so it is not among all hosts, as in Ansible"
        }
        return Inventory(sources: sources, warnings: warnings, builder: builder, groupFiles: groupFiles, hostFiles: hostFiles)
    }

    // MARK: Source kinds

    /// `host1,host2:2222,[2001:db8::1]:22,`: hosts in `ungrouped`.
    mutating func loadHostList(_ list: String) throws {
        let origin = FileLocation(file: "host list '\(list)'")
        for item in list.split(separator: ",") {
            let entry = String(PythonText.strip(item))
            guard !entry.isEmpty else { continue }
            var name = entry
            var port: Int?
            if let parsed = HostDeclaration.parseAddress(entry, allowRanges: false) {
                name = parsed.host
                port = parsed.port
            }
            if builder.hostIndex[name] == nil {
                try builder.addHost(name, group: InventoryBuilder.ungrouped, port: port, at: origin)
            }
        }
    }

    /// Names Ansible skips in an inventory directory.
    static func isIgnoredInDirectory(_ name: String) -> Bool {
        if name.hasPrefix(".") || name == "host_vars" || name == "group_vars" || name == "vars_plugins" { return true }
        let ignoredSuffixes = [".pyc", ".pyo", ".swp", ".bak", "~", ".rpm", ".md", ".txt", ".rst", ".orig", ".cfg", ".retry"]
        return ignoredSuffixes.contains { name.hasSuffix($0) }
    }

    /// Directories already read (by real path), so a symbolic link back up the tree cannot loop forever.
    private var directoriesRead: Set<String> = []

    /// Every file in the directory (recursively, in name order) is a source of its own.
    mutating func loadDirectory(_ path: String) throws {
        guard directoriesRead.insert((path as NSString).resolvingSymlinksInPath).inserted else { return }
        let names: [String]
        do {
            names = try FileManager.default.contentsOfDirectory(atPath: path)
        } catch {
            throw InventoryError("cannot read inventory directory: \(error.localizedDescription)", at: FileLocation(file: path))
        }
        for name in names.sorted(by: { $0.utf8.lexicographicallyPrecedes($1.utf8) }) where !Self.isIgnoredInDirectory(name) {
            let full = (path as NSString).appendingPathComponent(name)
            var isDirectory: ObjCBool = false
            guard FileManager.default.fileExists(atPath: full, isDirectory: &isDirectory) else { continue }
            if isDirectory.boolValue { try loadDirectory(full) } else { try loadFile(full) }
        }
    }

    /// Python's `os.path.splitext(path)[1]`: the extension of the last component, not counting leading dots.
    static func fileExtension(_ path: String) -> String {
        let name = PathComponents.name(of: path)
        let trimmed = name.drop { $0 == "." }
        guard let dot = trimmed.lastIndex(of: ".") else { return "" }
        return String(trimmed[dot...])
    }

    enum StructuredKind {
        case yaml, json
    }

    mutating func loadFile(_ path: String) throws {
        let bytes = try readFile(path)
        let ext = Self.fileExtension(path)
        if bytes.starts(with: Array("#!".utf8)) && FileManager.default.isExecutableFile(atPath: path) {
            try loadScript(path)
            return
        }
        if bytes.starts(with: Array("$ANSIBLE_VAULT;".utf8)) {
            throw InventoryError(
                "the inventory is encrypted with ansible-vault, which fwctl cannot decrypt", at: FileLocation(file: path),
                hint: "decrypt it (ansible-vault view) into a file only you can read, or export it with ansible-inventory --list")
        }
        switch ext {
        case ".toml":
            throw InventoryError(
                "TOML inventories are not supported", at: FileLocation(file: path),
                hint: "convert it with `ansible-inventory -i \(path) --list > inventory.json` and use that")
        case ".yml", ".yaml":
            try loadStructuredOrINI(bytes, file: path, preferred: .yaml)
        case ".json":
            try loadStructuredOrINI(bytes, file: path, preferred: .json)
        case "":
            // Ansible tries YAML before INI for files without an extension. A first line that is an INI section
            // header cannot start a YAML mapping, so such files skip the YAML attempt (the common case, and fast).
            if Self.startsWithSectionHeader(bytes) {
                try INIInventoryParser.parse(bytes, file: path, into: &builder, maxHosts: options.maxHosts)
            } else {
                try loadStructuredOrINI(bytes, file: path, preferred: nil)
            }
        default:
            try INIInventoryParser.parse(bytes, file: path, into: &builder, maxHosts: options.maxHosts)
        }
    }

    static func startsWithSectionHeader(_ bytes: [UInt8]) -> Bool {
        var lineStart = 0
        while lineStart < bytes.count {
            var lineEnd = lineStart
            while lineEnd < bytes.count, bytes[lineEnd] != 0x0A, bytes[lineEnd] != 0x0D { lineEnd += 1 }
            let line = bytes[lineStart..<lineEnd]
            lineStart = lineEnd + 1
            guard let text = String(validating: line, as: UTF8.self) else { return false }
            let stripped = PythonText.strip(Substring(text))
            guard let first = stripped.first else { continue }
            if first == "#" || first == ";" { continue }
            return INIInventoryParser.sectionHeader(stripped) != nil
        }
        return false
    }

    /// YAML (or JSON) first, as Ansible's `yaml` plugin; INI when that does not give an inventory.
    mutating func loadStructuredOrINI(_ bytes: [UInt8], file: String, preferred: StructuredKind?) throws {
        let structuredError: Error
        do {
            if try loadStructured(bytes, file: file, kind: preferred ?? .yaml, fallingBack: true) { return }
            // Empty, or not a mapping: Ansible's INI plugin gets the file.
            try INIInventoryParser.parse(bytes, file: file, into: &builder, maxHosts: options.maxHosts)
            return
        } catch let error as StructuredSyntaxError {
            structuredError = error.underlying
        }
        do {
            var attempt = builder
            try INIInventoryParser.parse(bytes, file: file, into: &attempt, maxHosts: options.maxHosts)
            builder = attempt
        } catch {
            // Report the error of the format the file was meant to be in.
            if preferred != nil || Self.looksLikeYAML(bytes) { throw structuredError }
            throw error
        }
    }

    /// Whether the first significant line reads as YAML (a document marker, a directive, a flow mapping, or a
    /// `key:` line) rather than INI.
    static func looksLikeYAML(_ bytes: [UInt8]) -> Bool {
        let text = String(decoding: bytes.prefix(4096), as: UTF8.self)
        for line in text.split(whereSeparator: { $0 == "\n" || $0 == "\r" }) {
            let stripped = PythonText.strip(line)
            guard let first = stripped.first, first != "#" else { continue }
            if stripped.hasPrefix("---") || first == "%" || first == "{" { return true }
            guard let colon = stripped.firstIndex(of: ":") else { return false }
            let after = stripped[stripped.index(after: colon)...]
            return !stripped[..<colon].contains("=") && (after.isEmpty || after.first == " " || after.first == "\t")
        }
        return false
    }

    /// Marks a YAML/JSON syntax error, after which INI is still tried.
    struct StructuredSyntaxError: Error {
        var underlying: InventoryError
    }

    /// Loads a YAML or JSON inventory document. Returns false when the document is empty or not a mapping (the
    /// caller may try INI); with `fallingBack`, syntax errors are wrapped in `StructuredSyntaxError`.
    @discardableResult
    mutating func loadStructured(_ bytes: [UInt8], file: String, kind: StructuredKind, fallingBack: Bool = false) throws -> Bool {
        func fail(_ error: InventoryError) -> Error { fallingBack ? StructuredSyntaxError(underlying: error) : error }
        func notAnInventory() throws -> Bool {
            if fallingBack { return false }
            throw InventoryError("the inventory is empty or not a mapping of groups", at: FileLocation(file: file))
        }
        guard let text = String(validating: bytes, as: UTF8.self) else {
            throw fail(InventoryError("the file is not valid UTF-8", at: FileLocation(file: file), hint: "save it as UTF-8"))
        }
        // Ansible reads every data file as JSON first, then as YAML.
        var jsonFailure: JSONReader.Failure?
        if JSONReader.looksLikeJSON(bytes) {
            do {
                let document = try JSONReader.parse(bytes)
                guard case .dict(let top) = document.value, !top.isEmpty else { return try notAnInventory() }
                if DynamicInventoryParser.looksDynamic(document.value) {
                    // A saved `--list` output: hosts missing from _meta.hostvars simply have no vars.
                    try DynamicInventoryParser(origin: FileLocation(file: file))
                        .parse(document.value, keyOrder: document.keyOrder, into: &builder) { _ in .dict([:]) }
                    return true
                }
                // The YAML inventory structure written as JSON: read below through the YAML parser (JSON is YAML),
                // which keeps the order of groups and hosts.
            } catch let failure as JSONReader.Failure {
                jsonFailure = failure
            }
        }
        let document: YAMLReader.Document
        do {
            document = try YAMLReader.parse(text)
        } catch let failure as YAMLReader.Failure {
            if kind == .json, let jsonFailure {
                throw fail(InventoryError(
                    "invalid JSON: \(jsonFailure.message)",
                    at: FileLocation(file: file, line: jsonFailure.line, column: jsonFailure.column)))
            }
            throw fail(InventoryError(failure.message, at: FileLocation(file: file, line: failure.line, column: failure.column)))
        }
        guard let root = document.root, case .mapping(let mapping) = root, !mapping.isEmpty else {
            return try notAnInventory()
        }
        var parser = YAMLInventoryParser(file: file, maxHosts: max(0, options.maxHosts - builder.hosts.count))
        try parser.parse(root, into: &builder)
        warnings += parser.warnings
        return true
    }

    /// Runs an executable inventory with `--list` and reads its JSON; `--host NAME` for hosts without
    /// `_meta.hostvars`, as Ansible does.
    mutating func loadScript(_ path: String) throws {
        let timeout = options.scriptTimeout
        let output = try ScriptRunner.run(path, ["--list"], timeout: timeout)
        let origin = FileLocation(file: path)
        let document: JSONReader.Document<InventoryValue>
        do {
            document = try JSONReader.parse(output)
        } catch let failure as JSONReader.Failure {
            throw InventoryError(
                "the output of `\(path) --list` is not valid JSON: \(failure.message) (output line \(failure.line))", at: origin,
                hint: "run the script yourself to see what it prints")
        }
        try DynamicInventoryParser(origin: origin).parse(document.value, keyOrder: document.keyOrder, into: &builder) { host in
            let bytes = try ScriptRunner.run(path, ["--host", host], timeout: timeout)
            if bytes.allSatisfy({ $0 == 0x20 || $0 == 0x0A || $0 == 0x0D || $0 == 0x09 }) { return .dict([:]) }
            do {
                return try JSONReader.parse(bytes).value
            } catch let failure as JSONReader.Failure {
                throw InventoryError("the output of `\(path) --host \(host)` is not valid JSON: \(failure.message)", at: origin)
            }
        }
    }

    func readFile(_ path: String) throws -> [UInt8] {
        do {
            return try LocalFile.readBytes(path)
        } catch {
            throw InventoryError("cannot read file (\(error.reason))", at: FileLocation(file: path),
                                 hint: "check that it exists and is readable")
        }
    }
}
