import Synchronization

/// Runs async work one piece at a time, in arrival order: the store's sync rounds (a round asked for by a request
/// waits for the one in progress, so it sees its rows written), and the api_v2 double's blocked event loop.
public final class AsyncSerialGate: Sendable {
    private struct State {
        var busy = false
        var waiters: [CheckedContinuation<Void, Never>] = []
    }

    private let state = Mutex(State())

    public init() {}

    public func run<T: Sendable>(_ work: () async throws -> T) async throws -> T {
        await withCheckedContinuation { (c: CheckedContinuation<Void, Never>) in
            let go: Bool = state.withLock { s in
                if s.busy { s.waiters.append(c); return false }
                s.busy = true
                return true
            }
            if go { c.resume() }
        }
        defer {
            let next: CheckedContinuation<Void, Never>? = state.withLock { s in
                if s.waiters.isEmpty { s.busy = false; return nil }
                return s.waiters.removeFirst()
            }
            next?.resume()
        }
        return try await work()
    }
}
