import Synchronization

/// Bounds a store operation: past `seconds` the caller gets `StoreError.unavailable` whether or not the operation
/// has noticed (a pool waiting on a reconnect may not answer its cancellation for a minute); the operation is
/// cancelled and left to finish on its own. A database that went away answers the request with a 503 in seconds.
enum StoreTimeout {
    static func run<T: Sendable>(seconds: Double, _ operation: @escaping @Sendable () async throws -> T) async throws -> T {
        let outcome = Outcome<T>()
        return try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<T, any Error>) in
                outcome.wait(continuation)
                let task = Task { outcome.finish(with: await Result(catching: operation)) }
                outcome.onCancel { task.cancel() }
                // NIO's timer, not Task.sleep: a cancelled sleep holds its timer until the deadline (`Deadline`).
                let timer = Deadline.after(seconds) {
                    outcome.finish(with: .failure(StoreError.unavailable("the store did not answer within \(Int(seconds)) s")))
                }
                outcome.onFinish { timer.cancel() }
            }
        } onCancel: {
            outcome.finish(with: .failure(CancellationError()))
        }
    }
}

/// The first of the operation's result, the deadline and the caller's cancellation resumes the caller; the others
/// find it done.
private final class Outcome<T: Sendable>: Sendable {
    private struct State {
        var continuation: CheckedContinuation<T, any Error>?
        var result: Result<T, any Error>?
        var cancel: (@Sendable () -> Void)?
        var finished: (@Sendable () -> Void)?
    }

    private let state = Mutex(State())

    func wait(_ continuation: CheckedContinuation<T, any Error>) {
        let early = state.withLock { s -> Result<T, any Error>? in
            if let result = s.result { return result }
            s.continuation = continuation
            return nil
        }
        if let early { continuation.resume(with: early) }
    }

    func onCancel(_ cancel: @escaping @Sendable () -> Void) {
        let done = state.withLock { s -> Bool in
            if s.result != nil { return true }
            s.cancel = cancel
            return false
        }
        if done { cancel() }
    }

    func onFinish(_ finished: @escaping @Sendable () -> Void) {
        let done = state.withLock { s -> Bool in
            if s.result != nil { return true }
            s.finished = finished
            return false
        }
        if done { finished() }
    }

    func finish(with result: Result<T, any Error>) {
        let (continuation, cancel, finished) = state.withLock { s -> (CheckedContinuation<T, any Error>?, (@Sendable () -> Void)?, (@Sendable () -> Void)?) in
            guard s.result == nil else { return (nil, nil, nil) }
            s.result = result
            defer { s.continuation = nil; s.cancel = nil; s.finished = nil }
            return (s.continuation, s.cancel, s.finished)
        }
        continuation?.resume(with: result)
        if case .failure = result { cancel?() }
        finished?()
    }
}

private extension Result where Failure == any Error {
    init(catching body: () async throws -> Success) async {
        do { self = .success(try await body()) } catch { self = .failure(error) }
    }
}
