import Synchronization

/// What inner parts of the chain learn about a request (the key that made it, its synthesis) for the outermost
/// middleware, which records the request once its body is sent. One per request; the context is copied, this is not.
public final class RequestExchange: Sendable {
    private struct State {
        var key: KeyRecord?
        var trace: SynthesisTrace?
    }

    private let state = Mutex(State())

    public init() {}

    public var key: KeyRecord? {
        get { state.withLock { $0.key } }
        set { state.withLock { $0.key = newValue } }
    }

    public var trace: SynthesisTrace? {
        get { state.withLock { $0.trace } }
        set { state.withLock { $0.trace = newValue } }
    }
}
