import Hummingbird
import HummingbirdCore
import Logging
import NIOCore

/// Hummingbird's HTTP/1 child channel behind the `ConnectionGate`: a connection refused a place is answered
/// `503` with `Retry-After` and closed before any request is read (no task, no buffers); an admitted one gets
/// the client deadlines first in its pipeline and gives its place back when it closes.
struct GuardedHTTP1Channel: ServerChildChannel {
    struct Value: ServerChildChannelValue {
        let channel: any Channel
        /// nil for a refused connection.
        let http: HTTP1Channel.Value?
    }

    let http: HTTP1Channel
    let gate: ConnectionGate

    func setup(channel: any Channel, logger: Logger) -> EventLoopFuture<Value> {
        let address = channel.remoteAddress?.ipAddress ?? "-"
        let ticket: ConnectionGate.Ticket
        let makeRoom: @Sendable (ConnectionGate.Standing) -> Void = { standing in
            // An upload cut off fails as the client's slowness, not as "I/O on closed channel".
            if standing == .slowBody { channel.pipeline.fireErrorCaught(ClientTimeout(reason: .slowBody, seconds: 0)) }
            channel.close(promise: nil)
        }
        switch gate.admit(address, close: makeRoom) {
        case .failure(let refusal):
            return channel.eventLoop.makeCompletedFuture {
                try channel.pipeline.syncOperations.addHandler(RefusedConnectionHandler(refusal: refusal))
                return Value(channel: channel, http: nil)
            }
        case .success(let admitted):
            ticket = admitted
        }
        let gate = self.gate
        channel.closeFuture.whenComplete { _ in gate.release(ticket) }
        return channel.eventLoop.makeCompletedFuture {
            // One read per wake-up: NIO keeps as many receive buffers per connection as reads per wake-up (4, each
            // growing to 64 KiB), for the connection's whole life. An idle keep-alive connection that once uploaded
            // then holds 64 KiB, not 256 (soak: 32 upload connections, anonymous RSS -6.5 MiB; req/s unchanged).
            try channel.syncOptions?.setOption(ChannelOptions.maxMessagesPerRead, value: 1)
            try channel.pipeline.syncOperations.addHandler(ClientDeadlineHandler(limits: gate.limits, gate: gate, ticket: ticket))
        }.flatMap {
            http.setup(channel: channel, logger: logger)
        }.map { Value(channel: channel, http: $0) }
    }

    func handle(value: Value, logger: Logger) async {
        guard let connection = value.http else { return }
        await http.handle(value: connection, logger: logger)
    }
}

/// Writes one `503` the moment a refused connection is registered, then closes it.
final class RefusedConnectionHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer

    let refusal: ConnectionGate.Refusal

    init(refusal: ConnectionGate.Refusal) { self.refusal = refusal }

    func channelActive(context: ChannelHandlerContext) {
        let error = GatewayError(503, "too_many_connections", refusal == .total
            ? "the gateway has as many connections open as it allows (MAX_CONNECTIONS); retry shortly"
            : "this address has as many connections open as one client may (MAX_CONNECTIONS_PER_CLIENT); reuse one or retry shortly",
            retryAfter: 1)
        let body = error.jsonBody()
        var bytes = context.channel.allocator.buffer(capacity: 160 + body.readableBytes)
        bytes.writeString("HTTP/1.1 503 Service Unavailable\r\nContent-Type: application/json; charset=utf-8\r\nRetry-After: 1\r\n")
        bytes.writeString("Connection: close\r\nContent-Length: \(body.readableBytes)\r\n\r\n")
        bytes.writeImmutableBuffer(body)
        let loopBound = context.loopBound
        context.writeAndFlush(NIOAny(bytes)).whenComplete { _ in loopBound.value.close(promise: nil) }
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {} // whatever it sends is not read
}
