import Foundation

/// A fresh folder under the temporary directory, unique across parallel tests and processes (pid + counter),
/// optionally filled with files. Remove it with `defer { folder.remove() }`.
public struct TemporaryFolder: Sendable {
    public let url: URL

    /// Creates `<tmp>/<prefix>-<pid>-<n>/` holding `files` (relative path -> text; subfolders are created).
    public init(_ prefix: String, files: [String: String] = [:]) throws {
        url = FileManager.default.temporaryDirectory.appendingPathComponent("\(prefix)-\(getpid())-\(UniqueNumber.next())")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        for (path, text) in files {
            let file = url.appendingPathComponent(path)
            try FileManager.default.createDirectory(at: file.deletingLastPathComponent(), withIntermediateDirectories: true)
            try Data(text.utf8).write(to: file)
        }
    }

    /// The path of `name` inside the folder.
    public func path(_ name: String) -> String { url.appendingPathComponent(name).path }

    public func remove() { try? FileManager.default.removeItem(at: url) }
}
