import HTTPTypes
import NIOCore
import NIOHTTPTypes

/// Hummingbird answers what it cannot parse as HTTP/1.1 (a method no parser knows, a broken request line, headers
/// past NIO's limits) with a bare `400`, `Content-Length: 0`, before any route or middleware exists for it. This
/// gives that answer the `ErrorResponse` body and `X-Request-ID` every other error has. Only a response without
/// `X-Request-ID` is rewritten, and every response the router sends has one.
final class ProtocolErrorBody: ChannelOutboundHandler, RemovableChannelHandler {
    typealias OutboundIn = HTTPResponsePart
    typealias OutboundOut = HTTPResponsePart

    private var body: ByteBuffer?

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        switch unwrapOutboundIn(data) {
        case .head(var head) where head.status == .badRequest && head.headerFields[.xRequestID] == nil:
            let error = GatewayError(400, "bad_request",
                                     "the request could not be read as HTTP/1.1: an unknown method, a malformed request line or headers, or headers too large")
            let json = error.jsonBody()
            head.headerFields[.xRequestID] = RequestID.make()
            head.headerFields[.contentType] = "application/json; charset=utf-8"
            head.headerFields[.contentLength] = String(json.readableBytes)
            body = json
            context.write(wrapOutboundOut(.head(head)), promise: promise)
        case .end(let trailers) where body != nil:
            context.write(wrapOutboundOut(.body(body!)), promise: nil)
            body = nil
            context.write(wrapOutboundOut(.end(trailers)), promise: promise)
        default:
            context.write(data, promise: promise)
        }
    }
}
