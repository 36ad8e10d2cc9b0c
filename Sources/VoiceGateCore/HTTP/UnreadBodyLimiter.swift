import HTTPTypes
import NIOCore
import NIOHTTPTypes

/// Bounds what is read after an answer sent while its request body was still arriving (an upload refused
/// part-way, a wrong key): Hummingbird would read and discard the rest however long it runs, so a client could
/// keep a connection busy forever. The answer says `Connection: close`; the connection closes once the client
/// has sent the rest, or after `maxBytes` more or `maxTime`, whichever comes first. Reading on for a while
/// rather than closing at once lets a client that sends its whole body before reading see the answer instead
/// of a reset.
final class UnreadBodyLimiter: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPRequestPart
    typealias InboundOut = HTTPRequestPart
    typealias OutboundIn = HTTPResponsePart
    typealias OutboundOut = HTTPResponsePart

    private let maxBytes: Int
    private let maxTime: TimeAmount
    private var receivingBody = false
    private var closeAfterResponse = false
    private var draining = false
    private var drained = 0
    private var deadline: Scheduled<Void>?

    init(maxBytes: Int = 16 << 20, maxTime: TimeAmount = .seconds(5)) {
        self.maxBytes = maxBytes
        self.maxTime = maxTime
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head:
            receivingBody = true
        case .body(let buffer):
            if draining {
                drained += buffer.readableBytes
                if drained > maxBytes { return close(context) }
            }
        case .end:
            receivingBody = false
            if draining { return close(context) }
        }
        context.fireChannelRead(data)
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        switch unwrapOutboundIn(data) {
        case .head(var response) where receivingBody && response.status.kind != .informational:
            closeAfterResponse = true
            response.headerFields[.connection] = "close"
            context.write(wrapOutboundOut(.head(response)), promise: promise)
        case .end where closeAfterResponse:
            closeAfterResponse = false
            let written = context.eventLoop.makePromise(of: Void.self)
            written.futureResult.cascade(to: promise)
            context.write(data, promise: written)
            written.futureResult.assumeIsolated().whenSuccess { self.drainRest(context) }
        default:
            context.write(data, promise: promise)
        }
    }

    private func drainRest(_ context: ChannelHandlerContext) {
        guard receivingBody else { return close(context) }
        draining = true
        deadline = context.eventLoop.assumeIsolated().scheduleTask(in: maxTime) { self.close(context) }
    }

    private func close(_ context: ChannelHandlerContext) {
        deadline?.cancel()
        deadline = nil
        draining = false
        context.close(promise: nil)
    }

    func channelInactive(context: ChannelHandlerContext) {
        deadline?.cancel()
        deadline = nil
        context.fireChannelInactive()
    }
}
