#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Reading a local file whole: templates, inventories, vars and data files.
///
/// One read loop with the file's size as the first guess, into one array: no Foundation `Data` and no second
/// copy. Reading stops with an error past `maxBytes` (a device such as /dev/zero never ends), so bad input
/// cannot make memory grow without bound. A FIFO is read like any reader reads it: until its writer closes it.
public enum LocalFile {
    /// The most any caller reads by default: far beyond any inventory or template, far below memory.
    public static let defaultMaxBytes = 1 << 30

    public struct ReadError: Error, Sendable, Equatable, CustomStringConvertible {
        public var path: String
        /// The errno of the call that failed, or 0 when the file was too large.
        public var code: Int32
        public var maxBytes: Int

        /// Why, in a few words: the system's message, or the size limit.
        public var reason: String {
            code == 0 ? "larger than \(maxBytes) bytes" : String(cString: strerror(code))
        }

        public var description: String { "cannot read \(DisplayEscaping.quotedName(path)): \(reason)" }
    }

    public static func readBytes(_ path: String, maxBytes: Int = defaultMaxBytes) throws(ReadError) -> [UInt8] {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw ReadError(path: path, code: errno, maxBytes: maxBytes) }
        defer { close(fd) }
        var info = stat()
        var capacity = 64 * 1024
        if fstat(fd, &info) == 0 {
            if info.st_mode & S_IFMT == S_IFDIR { throw ReadError(path: path, code: EISDIR, maxBytes: maxBytes) }
            if info.st_mode & S_IFMT == S_IFREG {
                guard Int(info.st_size) <= maxBytes else { throw ReadError(path: path, code: 0, maxBytes: maxBytes) }
                capacity = Int(info.st_size) + 1  // one more, so that the end is seen without growing
            }
        }
        var failure: Int32 = 0
        var ended = false
        // The first read fills exactly the expected size, uninitialised memory straight from read(2).
        var bytes = [UInt8](unsafeUninitializedCapacity: capacity) { buffer, initialized in
            initialized = 0
            while initialized < buffer.count {
                let got = read(fd, buffer.baseAddress! + initialized, buffer.count - initialized)
                if got < 0 {
                    if errno == EINTR { continue }
                    failure = errno
                    return
                }
                if got == 0 { ended = true; return }
                initialized += got
            }
        }
        if failure != 0 { throw ReadError(path: path, code: failure, maxBytes: maxBytes) }
        // A file that was not regular, or grew while being read: the rest in chunks.
        if !ended {
            var chunk = [UInt8](repeating: 0, count: 64 * 1024)
            while true {
                if bytes.count > maxBytes { throw ReadError(path: path, code: 0, maxBytes: maxBytes) }
                let got = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
                if got < 0 {
                    if errno == EINTR { continue }
                    throw ReadError(path: path, code: errno, maxBytes: maxBytes)
                }
                if got == 0 { break }
                bytes.append(contentsOf: chunk[0..<got])
            }
        }
        if bytes.count > maxBytes { throw ReadError(path: path, code: 0, maxBytes: maxBytes) }
        return bytes
    }
}
