import NIOCore

/// First in a client connection's pipeline, it sees every byte the client sends and closes the connection when
/// the client is too slow:
/// - the request head must be complete within `headerTimeout` of the connection's opening, or of the first byte
///   of a kept-alive connection's next request, however slowly it trickles in (nginx's `client_header_timeout`);
/// - a body must not pause for `idleTimeout`, and a kept-alive connection may sit idle between two requests as long.
/// - a body arriving slower than `bodyMinRate` makes its connection one whose place a newcomer may take at
///   `MAX_CONNECTIONS` (`ConnectionGate`).
/// While the gateway works on a request (queue, upstream) nothing is timed here.
/// `RequestPhaseHandler`, behind the HTTP decoder, tells it where each request stands.
final class ClientDeadlineHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer

    private enum Phase {
        case awaitingHead(since: NIODeadline)
        case readingBody(since: NIODeadline, bytes: Int, crawling: Bool)
        case handling
        case idle

        var standing: ConnectionGate.Standing {
            switch self {
            case .awaitingHead: .awaitingHead
            case .readingBody(_, _, let crawling): crawling ? .slowBody : .busy
            case .handling: .busy
            case .idle: .idle
            }
        }
    }

    private static let rateInterval = TimeAmount.seconds(1)

    private let headerTimeout: TimeAmount
    private let idleTimeout: TimeAmount
    private let limits: ConnectionLimits
    private let gate: ConnectionGate
    private let ticket: ConnectionGate.Ticket
    private var phase = Phase.awaitingHead(since: .now()) {
        didSet { if oldValue.standing != phase.standing { gate.update(ticket, to: phase.standing) } }
    }
    private var lastActivity = NIODeadline.now()
    private var timer: Scheduled<Void>?
    private var context: ChannelHandlerContext?

    init(limits: ConnectionLimits, gate: ConnectionGate, ticket: ConnectionGate.Ticket) {
        self.limits = limits
        self.gate = gate
        self.ticket = ticket
        headerTimeout = .nanoseconds(Int64(limits.headerTimeout * 1e9))
        idleTimeout = .nanoseconds(Int64(limits.idleTimeout * 1e9))
    }

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
        arm()
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        timer?.cancel()
        timer = nil
        self.context = nil
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        lastActivity = .now()
        switch phase {
        case .idle:
            phase = .awaitingHead(since: lastActivity)
            arm()
        case .readingBody(let since, let bytes, _):
            let total = bytes + unwrapInboundIn(data).readableBytes
            phase = .readingBody(since: since, bytes: total, crawling: isCrawling(bytes: total, since: since, now: lastActivity))
        case .awaitingHead, .handling:
            break
        }
        context.fireChannelRead(data)
    }

    func channelInactive(context: ChannelHandlerContext) {
        timer?.cancel()
        timer = nil
        context.fireChannelInactive()
    }

    // Told by `RequestPhaseHandler`.
    func headRead() {
        lastActivity = .now()
        phase = .readingBody(since: lastActivity, bytes: 0, crawling: limits.bodyMinRate > 0)
        arm()
    }

    /// Below the minimum rate, with the first second's worth allowed at once: a body counts as crawling until it
    /// has shown it is not, so a flood of new uploads cannot hold every place as "busy" for a second each.
    private func isCrawling(bytes: Int, since: NIODeadline, now: NIODeadline) -> Bool {
        guard limits.bodyMinRate > 0 else { return false }
        let seconds = max(1, Double((now - since).nanoseconds) / 1e9)
        return Double(bytes) < Double(limits.bodyMinRate) * seconds
    }

    func requestRead() {
        phase = .handling
        arm()
    }

    func responseEnded() {
        guard case .handling = phase else { return } // a pipelined next request has begun
        lastActivity = .now()
        phase = .idle
        arm()
    }

    private var deadline: NIODeadline? {
        switch phase {
        case .awaitingHead(let since): since + headerTimeout
        case .readingBody: min(lastActivity + idleTimeout, .now() + Self.rateInterval)
        case .idle: lastActivity + idleTimeout
        case .handling: nil
        }
    }

    private func arm() {
        timer?.cancel()
        timer = nil
        guard let context, let deadline else { return }
        timer = context.eventLoop.assumeIsolated().scheduleTask(deadline: deadline) { [self] in check() }
    }

    private func check() {
        timer = nil
        guard let context else { return }
        let now = NIODeadline.now()
        if case .readingBody(let since, let bytes, let crawling) = phase {
            let slow = isCrawling(bytes: bytes, since: since, now: now)
            if slow != crawling { phase = .readingBody(since: since, bytes: bytes, crawling: slow) }
            guard now >= lastActivity + idleTimeout else { return arm() }
        } else {
            guard let deadline else { return }
            guard now >= deadline else { return arm() } // bytes arrived since it was armed
        }
        switch phase {
        case .awaitingHead:
            gate.timedOut(.header)
        case .readingBody:
            gate.timedOut(.body)
            // The request reading the body fails with this instead of "I/O on closed channel".
            context.fireErrorCaught(ClientTimeout(reason: .body, seconds: limits.idleTimeout))
        case .idle, .handling:
            break
        }
        context.close(promise: nil)
    }
}
