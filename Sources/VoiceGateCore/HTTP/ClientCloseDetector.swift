import NIOCore
import Synchronization

/// Notices a client that goes away while its request is still being handled.
/// Hummingbird allows remote half-closure, so a client's FIN arrives as `ChannelEvent.inputClosed`
/// and the channel stays open: `closeFuture` alone would never say the client left.
final class ClientCloseDetector: ChannelInboundHandler, RemovableChannelHandler, Sendable {
    typealias InboundIn = NIOAny

    private struct State {
        var closed = false
        var callbacks: [@Sendable () -> Void] = []
    }

    private let state = Mutex(State())

    /// Calls `callback` once the client has closed its side (at once if it already has).
    func whenClientCloses(_ callback: @escaping @Sendable () -> Void) {
        let closed = state.withLock { s in
            if !s.closed { s.callbacks.append(callback) }
            return s.closed
        }
        if closed { callback() }
    }

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
            defer { s.callbacks = [] }
            return s.callbacks
        }
        callbacks.forEach { $0() }
    }
}
