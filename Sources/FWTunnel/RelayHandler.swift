import NIOCore
import NIOSSL
import Synchronization

/// One side of a relay: bytes read here are written to the partner channel. Backpressure: when this channel cannot
/// take more writes, the partner stops reading until it can, so neither side buffers more than its write
/// watermark. Half-close: end of input here shuts the partner's output; the connection closes once both of its
/// directions have ended, or when either side closes or fails. An end that comes from the partner waits until the
/// bytes the partner sent here are written: NIO fails the writes still pending on a channel it closes (and turns
/// the half-close of a channel whose input is over into a full close), and a slow reader whose peer answered and
/// closed would otherwise lose the end of the answer. Works when the two channels are on different event loops
/// (Channel's methods are thread-safe); on the same loop the writes happen inline.
final class RelayHandler: ChannelDuplexHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    /// Sent by a side that is gone to its partner: close once what is pending here is written.
    struct PartnerEnded: Sendable {}

    private let partner: Channel
    private let bytesRead: [ByteCount]
    private var inputClosed = false
    /// The partner's input ended: this side's output is closing (after its pending writes) or closed.
    private var outputClosed = false
    /// The last write through this pipeline (the partner's bytes): done once everything before it is written.
    private var lastWrite: EventLoopFuture<Void>?

    /// `bytesRead` counts what this side reads (and forwards to the partner).
    init(partner: Channel, bytesRead: [ByteCount]) {
        self.partner = partner
        self.bytesRead = bytesRead
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let bytes = unwrapInboundIn(data)
        for counter in bytesRead { counter.add(bytes.readableBytes) }
        partner.write(bytes, promise: nil)
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        partner.flush()
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        let promise = promise ?? context.eventLoop.makePromise(of: Void.self)
        lastWrite = promise.futureResult
        context.write(data, promise: promise)
    }

    /// Runs `body` on this loop once every write made so far on this channel is out (or has failed).
    private func afterWrites(context: ChannelHandlerContext, _ body: @escaping (ChannelHandlerContext) -> Void) {
        context.flush()
        guard let lastWrite else {
            body(context)
            return
        }
        let bound = NIOLoopBound(context, eventLoop: context.eventLoop)
        lastWrite.whenComplete { _ in body(bound.value) }
    }

    func channelWritabilityChanged(context: ChannelHandlerContext) {
        partner.setOption(ChannelOptions.autoRead, value: context.channel.isWritable).whenFailure { _ in }
        context.fireChannelWritabilityChanged()
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if case ChannelEvent.inputClosed = event {
            inputClosed = true
            // Flushed first: closing the output fails writes that were never flushed.
            partner.flush()
            partner.close(mode: .output, promise: nil)
            if outputClosed { afterWrites(context: context) { $0.close(promise: nil) } }
            return
        }
        context.fireUserInboundEventTriggered(event)
    }

    func close(context: ChannelHandlerContext, mode: CloseMode, promise: EventLoopPromise<Void>?) {
        guard mode == .output else {
            context.close(mode: mode, promise: promise)
            return
        }
        outputClosed = true
        let mode: CloseMode = inputClosed ? .all : .output
        afterWrites(context: context) { $0.close(mode: mode, promise: promise) }
    }

    func triggerUserOutboundEvent(context: ChannelHandlerContext, event: Any, promise: EventLoopPromise<Void>?) {
        guard event is PartnerEnded else {
            context.triggerUserOutboundEvent(event, promise: promise)
            return
        }
        promise?.succeed(())
        afterWrites(context: context) { $0.close(promise: nil) }
    }

    func channelInactive(context: ChannelHandlerContext) {
        // On the partner's loop: a partner whose relay handler is not (or no longer) in place closes at once. The
        // partner reads again, whatever its writability here was: what it reads can go nowhere now, and its own
        // peer must be able to finish writing, or the partner's last writes (and so its close) would wait forever.
        let partner = partner
        let end: @Sendable () -> Void = {
            try? partner.syncOptions?.setOption(ChannelOptions.autoRead, value: true)
            let pipeline = partner.pipeline.syncOperations
            if (try? pipeline.handler(type: RelayHandler.self)) != nil {
                pipeline.triggerUserOutboundEvent(PartnerEnded(), promise: nil)
            } else {
                partner.close(promise: nil)
            }
        }
        if partner.eventLoop.inEventLoop { end() } else { partner.eventLoop.execute(end) }
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        // A TLS peer that ends its output with a plain FIN instead of close_notify is still a clean half-close here:
        // the inputClosed event follows.
        if let tlsError = error as? NIOSSLError, case .uncleanShutdown = tlsError { return }
        context.close(promise: nil)
    }
}

/// A counter (bytes, connections) shared by event loops and the status socket.
final class ByteCount: Sendable {
    private let value = Atomic<Int>(0)

    init() {}

    func add(_ count: Int) { _ = value.wrappingAdd(count, ordering: .relaxed) }
    var total: Int { value.load(ordering: .relaxed) }
}
