import NIOCore

/// Collects the bytes of a connection that is still speaking frames and cuts them into frames. When the connection
/// switches to relaying, whatever arrived after the last frame is taken out as raw data.
struct FrameReader {
    private var buffer: ByteBuffer?

    mutating func append(_ bytes: ByteBuffer) {
        if buffer == nil { buffer = bytes } else { var bytes = bytes; buffer!.writeBuffer(&bytes) }
    }

    /// The next complete frame, nil when more bytes are needed. Throws on a malformed or oversize frame.
    mutating func next() throws -> Frame? {
        guard buffer != nil else { return nil }
        let frame = try Frame.decode(from: &buffer!)
        if buffer!.readableBytes == 0 { buffer = nil } else if frame != nil { buffer!.discardReadBytes() }
        return frame
    }

    /// Bytes received after the last frame.
    mutating func takeRemaining() -> ByteBuffer? {
        defer { buffer = nil }
        return buffer.flatMap { $0.readableBytes > 0 ? $0 : nil }
    }
}

extension ChannelHandlerContext {
    /// Writes one frame; `flush` false leaves it for the next flush.
    func writeFrame(_ frame: Frame, flush: Bool = true) {
        var buffer = channel.allocator.buffer(capacity: 64)
        frame.encode(into: &buffer)
        if flush { writeAndFlush(NIOAny(buffer), promise: nil) } else { write(NIOAny(buffer), promise: nil) }
    }
}

extension Channel {
    /// Writes and flushes one frame from outside the channel's pipeline (any thread).
    func writeFrame(_ frame: Frame) {
        var buffer = allocator.buffer(capacity: 16)
        frame.encode(into: &buffer)
        writeAndFlush(buffer, promise: nil)
    }
}

/// Sends a heartbeat every `interval` (when `sends`) and closes the connection when nothing has been received for
/// `timeout` (nil: the peer sends nothing here, only the sending matters). Runs on the channel's event loop; `stop()` before the connection starts relaying.
final class HeartbeatTimer {
    private var task: RepeatedTask?
    private var lastReceived = NIODeadline.now()
    /// Checked by the task itself: NIO does not promise that a cancelled task whose time has come in the same
    /// tick does not run, and a heartbeat written after `stop()` would land inside a relayed byte stream.
    private var generation = 0

    func received() { lastReceived = .now() }

    func start(context: ChannelHandlerContext, interval: TimeAmount, timeout: TimeAmount?, sends: Bool, onExpiry: @escaping () -> Void = {}) {
        lastReceived = .now()
        generation += 1
        let started = generation
        let bound = NIOLoopBound((self, context, onExpiry), eventLoop: context.eventLoop)
        task = context.eventLoop.scheduleRepeatedTask(initialDelay: interval, delay: interval) { _ in
            let (timer, context, onExpiry) = bound.value
            guard timer.generation == started else { return }
            if let timeout, NIODeadline.now() - timer.lastReceived > timeout {
                timer.stop()
                onExpiry()
                context.close(promise: nil)
                return
            }
            if sends { context.writeFrame(.heartbeat) }
        }
    }

    func stop() {
        generation += 1
        task?.cancel()
        task = nil
    }
}

extension TimeAmount {
    static func interval(_ value: Double) -> TimeAmount { .nanoseconds(Int64(value * 1e9)) }
}
