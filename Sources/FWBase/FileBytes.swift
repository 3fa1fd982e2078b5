/// A file to write: where it goes, its bytes and its mode. Rendering makes these (the path inside a host's
/// folder: `rules.v4`), the output tree writes them under a folder, and SSH uploads them (the path on the host).
public struct FileBytes: Sendable, Equatable {
    /// Relative to the folder it is written into, or absolute on the host it is uploaded to.
    public var path: String
    public var bytes: [UInt8]
    /// The permission bits the file gets, exactly (no umask): 0o644 for rule files, 0o600 for secrets.
    public var mode: UInt32

    public init(path: String, bytes: [UInt8], mode: UInt32 = 0o644) {
        self.path = path
        self.bytes = bytes
        self.mode = mode
    }

    /// The last part of the path.
    public var name: String {
        path.split(separator: "/").last.map(String.init) ?? path
    }
}
