#if canImport(Glibc)
import Glibc
#endif

/// Opens the TCP connection a session runs over: name resolution, v4 or v6, a bounded connect, TCP_NODELAY.
enum TCPConnector {
    /// Connects to the first address of `host` that answers before `deadline`; returns a non-blocking socket.
    static func connect(host: String, port: Int, deadline: Deadline, targetName: String) throws -> Int32 {
        guard (1...65535).contains(port) else {
            throw SSHError(.connect, host: targetName, "port \(port) is not a TCP port (1-65535); check ansible_port")
        }
        guard !host.isEmpty, !host.utf8.contains(0) else {
            throw SSHError(.connect, host: targetName, "the host address is empty; set ansible_host")
        }
        var hints = addrinfo()
        hints.ai_family = AF_UNSPEC
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        hints.ai_flags = AI_ADDRCONFIG
        var list: UnsafeMutablePointer<addrinfo>?
        // getaddrinfo blocks and has no timeout of its own; it runs on the host's worker thread, never the pool.
        let gai = getaddrinfo(host, String(port), &hints, &list)
        if gai != 0 {
            let reason = String(cString: gai_strerror(gai))
            throw SSHError(.connect, host: targetName, "cannot resolve \(host): \(reason); check ansible_host or DNS")
        }
        defer { freeaddrinfo(list) }

        var failures: [String] = []
        var entry = list
        while let info = entry {
            entry = info.pointee.ai_next
            let text = numericAddress(info.pointee.ai_addr, info.pointee.ai_addrlen)
            let fd = socket(info.pointee.ai_family, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_NONBLOCK.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
            if fd < 0 { failures.append("\(text): socket: \(errnoText())"); continue }
            switch connectOne(fd, info.pointee.ai_addr, info.pointee.ai_addrlen, deadline) {
            case .connected:
                var one: Int32 = 1
                _ = setsockopt(fd, Int32(IPPROTO_TCP), TCP_NODELAY, &one, socklen_t(MemoryLayout<Int32>.size))
                _ = setsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &one, socklen_t(MemoryLayout<Int32>.size))
                return fd
            case .failed(let reason):
                close(fd)
                failures.append("\(text) port \(port): \(reason)")
            case .timedOut:
                close(fd)
                throw SSHError(.timeout, host: targetName,
                               "no TCP connection to \(text) port \(port) within the connect timeout; the host is down or a firewall drops the packets",
                               during: .connect)
            }
        }
        let hint = failures.contains { $0.contains("refused") } ? " (is sshd running on that port?)" : ""
        throw SSHError(.connect, host: targetName, failures.joined(separator: "; ") + hint)
    }

    private enum Attempt { case connected, failed(String), timedOut }

    private static func connectOne(_ fd: Int32, _ address: UnsafeMutablePointer<sockaddr>?, _ length: socklen_t, _ deadline: Deadline) -> Attempt {
        if Glibc.connect(fd, address, length) == 0 { return .connected }
        guard errno == EINPROGRESS || errno == EINTR else { return .failed(errnoText()) }
        while true {
            if deadline.hasPassed { return .timedOut }
            var pfd = pollfd(fd: fd, events: Int16(POLLOUT), revents: 0)
            let n = poll(&pfd, 1, deadline.pollMilliseconds)
            if n < 0 { if errno == EINTR { continue }; return .failed(errnoText()) }
            if n == 0 { continue }
            var error: Int32 = 0
            var size = socklen_t(MemoryLayout<Int32>.size)
            if getsockopt(fd, SOL_SOCKET, SO_ERROR, &error, &size) != 0 { return .failed(errnoText()) }
            if error == 0 { return .connected }
            return .failed(String(cString: strerror(error)).lowercased())
        }
    }

    static func numericAddress(_ address: UnsafeMutablePointer<sockaddr>?, _ length: socklen_t) -> String {
        var buffer = [CChar](repeating: 0, count: Int(NI_MAXHOST))
        guard getnameinfo(address, length, &buffer, socklen_t(buffer.count), nil, 0, NI_NUMERICHOST) == 0 else { return "?" }
        return buffer.withUnsafeBufferPointer { String(cString: $0.baseAddress!) }
    }

    static func errnoText() -> String { String(cString: strerror(errno)).lowercased() }
}
