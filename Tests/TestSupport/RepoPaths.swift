import Foundation

/// Where things are, for tests: the repository, the built products, and `../shared`.
public enum RepoPaths {
    /// The repository root, found from this file's own path (Tests/TestSupport/RepoPaths.swift).
    public static let root: URL = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    /// The folder holding the test bundle and the products built with it (e.g. `.build/debug`).
    public static let products: URL = {
        let exe = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe"))
            ?? CommandLine.arguments[0]
        var url = URL(fileURLWithPath: exe)
        // Walk up out of an `.xctest` bundle if the runner lives inside one.
        while url.path != "/" && !FileManager.default.fileExists(atPath: url.appendingPathComponent("fwctl").path) {
            url.deleteLastPathComponent()
        }
        return url
    }()

    /// The `fwctl` executable built for this test run.
    public static var fwctl: URL { products.appendingPathComponent("fwctl") }

    /// `../shared` beside the repository: present in development checkouts and CI, absent in a user's clone.
    /// FWCTL_SHARED_DIR points elsewhere (a folder that does not exist shows what a user's clone sees).
    public static let shared: URL = {
        if let folder = ProcessInfo.processInfo.environment["FWCTL_SHARED_DIR"], !folder.isEmpty {
            return URL(fileURLWithPath: folder)
        }
        return root.deletingLastPathComponent().appendingPathComponent("shared")
    }()

    /// A test's own folder, for expected files kept next to the tests: pass `#filePath`.
    public static func directory(of filePath: String) -> URL {
        URL(fileURLWithPath: filePath).deletingLastPathComponent()
    }
}
