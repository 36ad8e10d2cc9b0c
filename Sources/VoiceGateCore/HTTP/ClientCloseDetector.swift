import NIOCore
import Synchronization

/// Notices a client that goes away while its request is still being handled.
/// Hummingbird allows remote half-closure, so a client's FIN arrives as `ChannelEvent.inputClosed`
/// and the channel stays open: `closeFuture` alone would never say the client left.
final class ClientCloseDetector: ChannelInboundHandler, RemovableChannelHandler, Sendable {
    typealias InboundIn = NIOAny

    private struct State {
        var closed = false
        var nextToken = 0
        var callbacks: [Int: @Sendable () -> Void] = [:]
    }

    private let state = Mutex(State())

    /// Calls `callback` once the client has closed its side (at once if it already has). A kept-alive
    /// connection serves many requests: each must `forget` its token when done, or the callbacks (and what
    /// they hold) would live as long as the connection.
    func whenClientCloses(_ callback: @escaping @Sendable () -> Void) -> Int? {
        let token: Int? = state.withLock { s in
            guard !s.closed else { return nil }
            defer { s.nextToken += 1 }
            s.callbacks[s.nextToken] = callback
            return s.nextToken
        }
        if token == nil { callback() }
        return token
    }

    func forget(_ token: Int) {
        _ = state.withLock { $0.callbacks.removeValue(forKey: token) }
    }

    /// Callbacks registered and not yet forgotten or fired.
    var waitingCount: Int { state.withLock { $0.callbacks.count } }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if let event = event as? ChannelEvent, event == .inputClosed { fire() }
        context.fireUserInboundEventTriggered(event)
    }

    func channelInactive(context: ChannelHandlerContext) {
        fire()
        context.fireChannelInactive()
    }

    private func fire() {
        let callbacks = state.withLock { s in
            s.closed = true
            defer { s.callbacks = [:] }
            return Array(s.callbacks.values)
        }
        callbacks.forEach { $0() }
    }
}
