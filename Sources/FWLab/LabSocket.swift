import FWPolicy
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// TCP sockets on IP addresses given as `IPNetwork` single addresses: listening and non-blocking connecting ones,
/// created by a thread inside a lab namespace (a socket stays in the namespace it was created in).
enum LabSocket {
    /// A socket address for `address`:`port`, passed to `body` as a sockaddr pointer and length.
    static func withSocketAddress<R>(_ address: IPNetwork, port: UInt16, _ body: (UnsafePointer<sockaddr>, socklen_t) -> R) -> R {
        switch address {
        case .v4(let value, _):
            var socketAddress = sockaddr_in()
            socketAddress.sin_family = sa_family_t(AF_INET)
            socketAddress.sin_port = port.bigEndian
            socketAddress.sin_addr.s_addr = value.bigEndian
            return withUnsafePointer(to: &socketAddress) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { body($0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
            }
        case .v6(let value, _):
            var socketAddress = sockaddr_in6()
            socketAddress.sin6_family = sa_family_t(AF_INET6)
            socketAddress.sin6_port = port.bigEndian
            withUnsafeMutableBytes(of: &socketAddress.sin6_addr) { bytes in
                for index in 0..<16 { bytes[index] = UInt8(truncatingIfNeeded: value >> UInt128(120 - 8 * index)) }
            }
            return withUnsafePointer(to: &socketAddress) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { body($0, socklen_t(MemoryLayout<sockaddr_in6>.size)) }
            }
        }
    }

    static func domain(_ address: IPNetwork) -> Int32 { address.family == .v4 ? AF_INET : AF_INET6 }

    /// A listening socket on `address`:`port`; nil with `alreadyListening` true when something listens there
    /// already (its own listener answers just as well).
    static func listen(on address: IPNetwork, port: UInt16) throws(LabError) -> Int32? {
        let fd = socket(domain(address), Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw LabError("socket: \(String(cString: strerror(errno)))") }
        var one: Int32 = 1
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, socklen_t(MemoryLayout<Int32>.size))
        if address.family == .v6 { setsockopt(fd, Int32(IPPROTO_IPV6), IPV6_V6ONLY, &one, socklen_t(MemoryLayout<Int32>.size)) }
        let bound = withSocketAddress(address, port: port) { bind(fd, $0, $1) }
        if bound != 0 {
            let code = errno
            close(fd)
            if code == EADDRINUSE { return nil }
            throw LabError("cannot listen on \(address):\(port): \(String(cString: strerror(code)))")
        }
        guard Glibc.listen(fd, SOMAXCONN) == 0 else {
            let code = errno
            close(fd)
            throw LabError("cannot listen on \(address):\(port): \(String(cString: strerror(code)))")
        }
        return fd
    }

    /// Starts a non-blocking connect from `source` (port chosen by the kernel) to `destination`:`port`.
    /// Returns the socket, or the errno of an immediate failure.
    static func startConnect(from source: IPNetwork?, to destination: IPNetwork, port: UInt16) -> Result<Int32, ConnectFailure> {
        let fd = socket(domain(destination), Int32(SOCK_STREAM.rawValue) | Int32(SOCK_NONBLOCK.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { return .failure(ConnectFailure(errno: errno)) }
        if let source {
            let bound = withSocketAddress(source, port: 0) { bind(fd, $0, $1) }
            if bound != 0 {
                let code = errno
                close(fd)
                return .failure(ConnectFailure(errno: code))
            }
        }
        let result = withSocketAddress(destination, port: port) { connect(fd, $0, $1) }
        if result == 0 || errno == EINPROGRESS { return .success(fd) }
        let code = errno
        close(fd)
        return .failure(ConnectFailure(errno: code))
    }

    /// The outcome of a connect the socket reported on: nil when it connected.
    static func connectError(_ fd: Int32) -> ConnectFailure? {
        var code: Int32 = 0
        var length = socklen_t(MemoryLayout<Int32>.size)
        getsockopt(fd, SOL_SOCKET, SO_ERROR, &code, &length)
        return code == 0 ? nil : ConnectFailure(errno: code)
    }

    /// One connect, waited for at most `timeout` seconds: true when it connected.
    static func connects(from source: IPNetwork?, to destination: IPNetwork, port: UInt16, timeout: Double) -> Bool {
        guard case .success(let fd) = startConnect(from: source, to: destination, port: port) else { return false }
        defer { close(fd) }
        var fds = [pollfd(fd: fd, events: Int16(POLLOUT), revents: 0)]
        guard poll(&fds, 1, Int32(timeout * 1000)) == 1 else { return false }
        return connectError(fd) == nil
    }

    /// Lets this process hold as many sockets as its hard limit allows (a probe opens thousands at once).
    static func raiseOpenFileLimit() -> Int {
        var limit = rlimit()
        getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit)
        if limit.rlim_cur < limit.rlim_max {
            limit.rlim_cur = limit.rlim_max
            setrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit)
            getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit)
        }
        return Int(min(limit.rlim_cur, 1 << 20))
    }
}

/// Why a connect failed, by errno.
struct ConnectFailure: Error, Sendable {
    var errno: Int32

    /// `refused`, `timeout`, `unreachable`, or the system's words.
    var reason: String {
        switch errno {
        case ECONNREFUSED: return "refused"
        case ETIMEDOUT: return "timeout"
        case ENETUNREACH, EHOSTUNREACH: return "unreachable"
        default: return String(cString: strerror(errno))
        }
    }
}
