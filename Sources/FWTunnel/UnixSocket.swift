#if canImport(Glibc)
import Glibc
#endif

/// A blocking client connection to a local Unix socket (the status and probe sockets).
enum UnixSocket {
    struct Failure: Error, CustomStringConvertible {
        var description: String
    }

    /// A connected descriptor (the caller closes it).
    static func connect(path: String) throws(Failure) -> CInt {
        var address = sockaddr_un()
        let capacity = MemoryLayout.size(ofValue: address.sun_path)
        guard !path.isEmpty, path.utf8.count < capacity else {
            throw Failure(description: "\(path.debugDescription) is not a socket path of at most \(capacity - 1) bytes")
        }
        let fd = Glibc.socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw Failure(description: "socket: \(String(cString: strerror(errno)))") }
        address.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &address.sun_path) { $0.copyBytes(from: Array(path.utf8) + [0]) }
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { Glibc.connect(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
        guard connected == 0 else {
            let reason = String(cString: strerror(errno))
            close(fd)
            throw Failure(description: reason)
        }
        return fd
    }
}
