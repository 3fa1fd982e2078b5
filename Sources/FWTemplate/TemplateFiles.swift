import FWBase
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Reads template folders with the C library (no Foundation in the template engine).
enum TemplateFiles {
    static let fileExtension = ".mustache"
    /// Deeper folders than this are not searched (symlinked folders are never followed).
    static let maxFolderDepth = 32

    static func sources(inDirectory directory: String) throws(TemplateError) -> [TemplateSource] {
        var sources: [TemplateSource] = []
        try collect(directory: directory, prefix: "", depth: 0, into: &sources)
        return sources.sorted { $0.name < $1.name }
    }

    private static func collect(
        directory: String, prefix: String, depth: Int, into sources: inout [TemplateSource]
    ) throws(TemplateError) {
        guard let handle = opendir(directory) else {
            throw failure(directory, "cannot open the template folder", errno: errno)
        }
        defer { closedir(handle) }
        var entries: [String] = []
        while let entry = readdir(handle) {
            let name = withUnsafePointer(to: &entry.pointee.d_name) {
                $0.withMemoryRebound(to: CChar.self, capacity: MemoryLayout.size(ofValue: entry.pointee.d_name)) {
                    String(cString: $0)
                }
            }
            if !name.hasPrefix(".") { entries.append(name) }
        }
        for entry in entries.sorted() {
            let path = directory.hasSuffix("/") ? directory + entry : directory + "/" + entry
            var info = stat()
            guard lstat(path, &info) == 0 else { continue }
            let type = info.st_mode & S_IFMT
            if type == S_IFDIR {
                guard depth < maxFolderDepth else {
                    throw failure(path, "template folders nest deeper than \(maxFolderDepth) levels", errno: 0)
                }
                try collect(directory: path, prefix: prefix + entry + "/", depth: depth + 1, into: &sources)
            } else if entry.hasSuffix(fileExtension), type == S_IFREG || (type == S_IFLNK && isRegularFile(path)) {
                let name = prefix + String(entry.dropLast(fileExtension.count))
                sources.append(TemplateSource(name: name, text: try readText(path), file: path))
            }
        }
    }

    private static func isRegularFile(_ path: String) -> Bool {
        var info = stat()
        return stat(path, &info) == 0 && info.st_mode & S_IFMT == S_IFREG
    }

    /// The contents of a template file, which must be UTF-8.
    static func readText(_ path: String) throws(TemplateError) -> String {
        let bytes = try readBytes(path)
        guard let text = String(validating: bytes, as: UTF8.self) else {
            throw TemplateError(
                .notFound, template: path, message: "the file is not valid UTF-8",
                help: "save it as UTF-8")
        }
        return text
    }

    static func readBytes(_ path: String) throws(TemplateError) -> [UInt8] {
        do {
            return try LocalFile.readBytes(path)
        } catch {
            throw TemplateError(
                .notFound, template: path, message: "cannot read the template (\(error.reason))",
                help: "check the path and its permissions")
        }
    }

    private static func failure(_ path: String, _ message: String, errno code: Int32) -> TemplateError {
        let reason = code == 0 ? "" : " (" + String(cString: strerror(code)) + ")"
        return TemplateError(
            .notFound, template: path, message: message + reason, help: "check the path and its permissions")
    }
}
