import NIOCore
import NIOSSL
import Synchronization

/// One side of a relay: bytes read here are written to the partner channel. Backpressure: when this channel cannot
/// take more writes, the partner stops reading until it can, so neither side buffers more than its write
/// watermark. Half-close: end of input here shuts the partner's output; the connection closes once both of its
/// directions have ended, or when either side closes or fails. Whatever ends the partner waits until the bytes this
/// side sent it are written: NIO fails the writes still pending on a channel it closes, and a slow reader whose
/// peer answered and closed would otherwise lose the end of the answer. Works when the two channels are on
/// different event loops (Channel's methods are thread-safe); on the same loop the writes happen inline.
final class RelayHandler: ChannelDuplexHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    private let partner: Channel
    private let bytesRead: [ByteCount]
    private var inputClosed = false
    private var outputClosed = false
    /// The last write to the partner: it completes once everything this side sent the partner is written.
    private var lastWrite: EventLoopFuture<Void>?

    /// `bytesRead` counts what this side reads (and forwards to the partner).
    init(partner: Channel, bytesRead: [ByteCount]) {
        self.partner = partner
        self.bytesRead = bytesRead
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let bytes = unwrapInboundIn(data)
        for counter in bytesRead { counter.add(bytes.readableBytes) }
        let written = partner.eventLoop.makePromise(of: Void.self)
        partner.write(bytes, promise: written)
        lastWrite = written.futureResult
    }

    /// Ends the partner (its output, or all of it) once this side's writes to it are out (or have failed).
    private func closePartner(mode: CloseMode) {
        partner.flush()
        let partner = partner
        guard let lastWrite else {
            partner.close(mode: mode, promise: nil)
            return
        }
        lastWrite.whenComplete { _ in partner.close(mode: mode, promise: nil) }
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        partner.flush()
    }

    func channelWritabilityChanged(context: ChannelHandlerContext) {
        partner.setOption(ChannelOptions.autoRead, value: context.channel.isWritable).whenFailure { _ in }
        context.fireChannelWritabilityChanged()
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if case ChannelEvent.inputClosed = event {
            inputClosed = true
            closePartner(mode: .output)
            // The partner closed this output only after its own last write here was out: nothing is pending.
            if outputClosed { context.close(promise: nil) }
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
        if inputClosed {
            context.close(mode: .all, promise: promise)
        } else {
            context.close(mode: .output, promise: promise)
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        closePartner(mode: .all)
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
