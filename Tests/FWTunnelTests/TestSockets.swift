import Foundation
import NIOCore
import NIOPosix
import Synchronization

/// A blocking TCP client for tests, with a receive timeout so a broken tunnel fails the test instead of hanging it.
final class TestClient {
    let fd: Int32

    /// Connects to 127.0.0.1:`port`, from `source` if given (another loopback address such as 127.0.0.2); with a
    /// `receiveBuffer` (bytes) the socket holds about that much unread, which makes it a slow reader's.
    init(port: Int, source: String? = nil, host: String = "127.0.0.1", timeout: Double = 5, receiveBuffer: Int32? = nil) throws {
        fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw TunnelTestError("socket: \(errno)") }
        if var size = receiveBuffer { setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, socklen_t(MemoryLayout<Int32>.size)) }
        var tv = timeval(tv_sec: Int(timeout), tv_usec: Int((timeout - Double(Int(timeout))) * 1e6))
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
        setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
        if let source {
            var local = sockaddr_in()
            local.sin_family = sa_family_t(AF_INET)
            local.sin_addr.s_addr = inet_addr(source)
            let bound = withUnsafePointer(to: &local) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) == 0 }
            }
            guard bound else { close(fd); throw TunnelTestError("bind \(source): \(errno)") }
        }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = UInt16(port).bigEndian
        address.sin_addr.s_addr = inet_addr(host)
        let ok = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) == 0 }
        }
        guard ok else { let e = errno; close(fd); throw TunnelTestError("connect to \(port): \(e)") }
    }

    deinit { close(fd) }

    var localPort: Int {
        var address = sockaddr_in()
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) } }
        return Int(UInt16(bigEndian: address.sin_port))
    }

    func send(_ bytes: [UInt8]) throws {
        var offset = 0
        while offset < bytes.count {
            let n = bytes[offset...].withUnsafeBytes { Glibc.send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            guard n > 0 else { throw TunnelTestError("send: \(errno)") }
            offset += n
        }
    }

    func send(_ text: String) throws { try send(Array(text.utf8)) }

    func shutdownWrite() { shutdown(fd, Int32(SHUT_WR)) }

    /// Ends the connection both ways (the descriptor itself is closed with the client).
    func hangUp() { shutdown(fd, Int32(SHUT_RDWR)) }

    /// Aborts the connection: the peer gets a reset (SO_LINGER 0, then the socket's end both ways).
    func reset() {
        var linger = Glibc.linger(l_onoff: 1, l_linger: 0)
        setsockopt(fd, SOL_SOCKET, SO_LINGER, &linger, socklen_t(MemoryLayout<Glibc.linger>.size))
        // Only closing a lingering-0 socket sends the RST (a shutdown sends a FIN): /dev/null takes the socket's
        // number, which closes the socket and leaves the descriptor for deinit to close.
        let null = open("/dev/null", O_RDONLY)
        dup2(null, fd)
        close(null)
    }

    /// Reads exactly `count` bytes, or fewer if the peer closes or the timeout passes.
    func receive(_ count: Int) -> [UInt8] {
        var out: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: min(65536, max(1, count)))
        while out.count < count {
            let n = chunk.withUnsafeMutableBytes { recv(fd, $0.baseAddress, min($0.count, count - out.count), 0) }
            if n <= 0 { break }
            out += chunk[0..<n]
        }
        return out
    }

    /// What one read gives, up to `limit` bytes: empty when the peer closed or the timeout passed.
    func receiveSome(_ limit: Int) -> [UInt8] {
        var chunk = [UInt8](repeating: 0, count: limit)
        let n = chunk.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
        return n > 0 ? Array(chunk[0..<n]) : []
    }

    /// Everything until the peer closes (or the timeout).
    func receiveAll() -> [UInt8] { receiveUntilEnd().bytes }

    /// Everything until the peer closes or the timeout, and whether it was the peer's close (end of input).
    func receiveUntilEnd() -> (bytes: [UInt8], ended: Bool) {
        var out: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 65536)
        while true {
            let n = chunk.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if n <= 0 { return (out, n == 0) }
            out += chunk[0..<n]
        }
    }

    /// True when the peer closed the connection (EOF or reset) within the timeout, without sending anything.
    func closedByPeer() -> Bool {
        var byte: UInt8 = 0
        let n = recv(fd, &byte, 1, 0)
        return n == 0 || (n < 0 && errno == ECONNRESET)
    }

    /// Round trip: sends `bytes`, expects them back.
    func echo(_ bytes: [UInt8]) throws -> Bool {
        try send(bytes)
        return receive(bytes.count) == bytes
    }
}

func randomBytes(_ count: Int) -> [UInt8] {
    var generator = SystemRandomNumberGenerator()
    return (0..<count).map { _ in UInt8.random(in: 0...255, using: &generator) }
}

/// A loopback TCP service for the tunnel to reach, on NIO.
final class TestService: @unchecked Sendable {
    // @unchecked: immutable after init apart from the Atomic counters.
    enum Mode {
        /// Echoes bytes as they come; half-closes its output when its input ends.
        case echo
        /// Sends nothing until its input ends, then everything it received and "EOF" and closes: proves that the
        /// client's half-close reached the service and that the reply still came back.
        case echoAfterEOF
        /// Reads a PROXY v2 header, answers "ip port\n" of its source, then echoes.
        case proxyReport
        /// Greets every connection with an HTTP request line: what work sees from a "home" that is not one.
        case garbage
    }

    let group: MultiThreadedEventLoopGroup
    let channel: Channel
    let port: Int

    init(_ mode: Mode) throws {
        group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let counter = AcceptCounter()
        self.counter = counter
        channel = try ServerBootstrap(group: group)
            .serverChannelOption(.backlog, value: 2048)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelOption(.allowRemoteHalfClosure, value: true)
            .childChannelInitializer { channel in
                counter.value.wrappingAdd(1, ordering: .relaxed)
                return channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(ServiceHandler(mode: mode))
                }
            }
            .bind(host: "127.0.0.1", port: 0).wait()
        port = channel.localAddress!.port!
    }

    private let counter: AcceptCounter
    var connections: Int { counter.value.load(ordering: .relaxed) }

    func stop() {
        try? channel.close().wait()
        try? group.syncShutdownGracefully()
    }
}

final class AcceptCounter: Sendable {
    let value = Atomic<Int>(0)
}

private final class ServiceHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    let mode: TestService.Mode
    var received: ByteBuffer?
    var headerDone = false

    init(mode: TestService.Mode) { self.mode = mode }

    func channelActive(context: ChannelHandlerContext) {
        if case .garbage = mode {
            context.writeAndFlush(NIOAny(context.channel.allocator.buffer(string: "GET / HTTP/1.1\r\n\r\n")), promise: nil)
        }
        context.fireChannelActive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        var bytes = unwrapInboundIn(data)
        switch mode {
        case .echo, .garbage:
            context.write(NIOAny(bytes), promise: nil)
        case .echoAfterEOF:
            if received == nil { received = bytes } else { received!.writeBuffer(&bytes) }
        case .proxyReport:
            if headerDone {
                context.write(NIOAny(bytes), promise: nil)
                return
            }
            if received == nil { received = bytes } else { received!.writeBuffer(&bytes) }
            guard var buffer = received, buffer.readableBytes >= 16, let length: UInt16 = buffer.getInteger(at: buffer.readerIndex + 14),
                  buffer.readableBytes >= 16 + Int(length) else { return }
            let header = buffer.readBytes(length: 16 + Int(length))!
            var reply = "bad-header\n"
            if Array(header[0..<12]) == [0x0D, 0x0A, 0x0D, 0x0A, 0x00, 0x0D, 0x0A, 0x51, 0x55, 0x49, 0x54, 0x0A], header[12] == 0x21, header[13] == 0x11 {
                let ip = header[16..<20].map(String.init).joined(separator: ".")
                let port = Int(header[24]) << 8 | Int(header[25])
                reply = "\(ip) \(port)\n"
            }
            headerDone = true
            var out = context.channel.allocator.buffer(capacity: 64)
            out.writeString(reply)
            out.writeBuffer(&buffer)
            context.write(NIOAny(out), promise: nil)
            received = nil
        }
    }

    func channelReadComplete(context: ChannelHandlerContext) { context.flush() }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        guard case ChannelEvent.inputClosed = event else { return }
        if case .echoAfterEOF = mode {
            var out = received ?? context.channel.allocator.buffer(capacity: 3)
            out.writeString("EOF")
            context.writeAndFlush(NIOAny(out)).whenComplete { [context = NIOLoopBound(context, eventLoop: context.eventLoop)] _ in
                context.value.close(promise: nil)
            }
        } else {
            context.close(mode: .output, promise: nil)
        }
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) { context.close(promise: nil) }
}
