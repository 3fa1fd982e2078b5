import Glibc

/// Binds `fd` (an IPv4 TCP socket) to a port the kernel picks on 127.0.0.1: the port, or nil (errno set).
public func bindLoopback(_ fd: Int32) -> Int? {
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_addr.s_addr = inet_addr("127.0.0.1")
    var length = socklen_t(MemoryLayout<sockaddr_in>.size)
    let bound = withUnsafeMutablePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) == 0 && getsockname(fd, $0, &length) == 0 }
    }
    return bound ? Int(UInt16(bigEndian: address.sin_port)) : nil
}

/// A TCP socket listening on a port the kernel picks on 127.0.0.1 (the kernel completes up to `backlog`
/// handshakes by itself): the descriptor and the port, or nil (errno set, nothing left open).
public func loopbackListener(backlog: Int32 = 16) -> (fd: Int32, port: Int)? {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    guard fd >= 0 else { return nil }
    guard let port = bindLoopback(fd), listen(fd, backlog) == 0 else {
        let saved = errno
        close(fd)
        errno = saved
        return nil
    }
    return (fd, port)
}
