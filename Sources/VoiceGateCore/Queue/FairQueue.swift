import Synchronization

/// A first-in, first-out gate in front of the upstream: at most `maxConcurrency` requests run,
/// at most `maxWaiting` wait, each waits at most `timeout`, and a cancelled waiter leaves at once.
public final class FairQueue: Sendable {
    public struct Snapshot: Sendable, Equatable {
        public var running: Int
        public var waiting: Int
        public var maxConcurrency: Int
        public var maxWaiting: Int
    }

    private struct Waiter {
        let id: UInt64
        let continuation: CheckedContinuation<Void, any Error>
    }

    private struct State {
        var running = 0
        var waiters: [Waiter] = []
        var nextID: UInt64 = 1
        var closed = false
    }

    public let maxConcurrency: Int
    public let maxWaiting: Int
    private let state = Mutex(State())

    public init(maxConcurrency: Int, maxWaiting: Int) {
        precondition(maxConcurrency >= 1)
        self.maxConcurrency = maxConcurrency
        self.maxWaiting = maxWaiting
    }

    public var snapshot: Snapshot {
        state.withLock { Snapshot(running: $0.running, waiting: $0.waiters.count, maxConcurrency: maxConcurrency, maxWaiting: maxWaiting) }
    }

    /// A ticket names a place in the line before it is taken, so a caller can ask for its position.
    public func makeTicket() -> UInt64 {
        state.withLock { s in defer { s.nextID += 1 }; return s.nextID }
    }

    /// 1 for the first waiter; nil when the ticket is not waiting (running, gone or not queued yet).
    public func position(of ticket: UInt64) -> Int? {
        state.withLock { s in s.waiters.firstIndex { $0.id == ticket }.map { $0 + 1 } }
    }

    /// Waits for a place; the returned lease must be released when the upstream work is done.
    public func acquire(ticket: UInt64? = nil, timeout: Double) async throws -> QueueLease {
        let id = ticket ?? makeTicket()
        enum Admission { case now, wait, full(Int), closed }
        let admission: Admission = state.withLock { s in
            if s.closed { return .closed }
            if s.running < maxConcurrency && s.waiters.isEmpty { s.running += 1; return .now }
            if s.waiters.count >= maxWaiting { return .full(s.waiters.count) }
            return .wait
        }
        switch admission {
        case .now: return QueueLease(queue: self)
        case .full(let n): throw QueueError.full(waiting: n)
        case .closed: throw QueueError.shuttingDown
        case .wait: break
        }
        let timer = Task { [weak self] in
            try await Task.sleep(for: .seconds(timeout))
            self?.remove(id, with: QueueError.timedOut(after: timeout))
        }
        defer { timer.cancel() }
        try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
                enum Outcome { case admitted, queued, rejected(any Error) }
                let outcome: Outcome = state.withLock { s in
                    if s.closed { return .rejected(QueueError.shuttingDown) }
                    // A place may have opened between the admission check and here.
                    if s.running < maxConcurrency && s.waiters.isEmpty { s.running += 1; return .admitted }
                    s.waiters.append(Waiter(id: id, continuation: continuation))
                    return .queued
                }
                switch outcome {
                case .admitted: continuation.resume()
                case .queued: if Task.isCancelled { remove(id, with: CancellationError()) }
                case .rejected(let error): continuation.resume(throwing: error)
                }
            }
        } onCancel: {
            remove(id, with: CancellationError())
        }
        return QueueLease(queue: self)
    }

    /// Refuses new waiters; those waiting still get their turn.
    public func close() {
        state.withLock { $0.closed = true }
    }

    private func remove(_ id: UInt64, with error: any Error) {
        let waiter: Waiter? = state.withLock { s in
            guard let index = s.waiters.firstIndex(where: { $0.id == id }) else { return nil }
            return s.waiters.remove(at: index)
        }
        waiter?.continuation.resume(throwing: error)
    }

    fileprivate func release() {
        let next: Waiter? = state.withLock { s in
            if s.waiters.isEmpty { s.running -= 1; return nil }
            return s.waiters.removeFirst() // the place passes straight to the next in line
        }
        next?.continuation.resume()
    }
}

/// A place at the upstream. Released once, explicitly or, as a safety net, when dropped.
public final class QueueLease: Sendable {
    private let queue: FairQueue
    private let released = Atomic<Bool>(false)

    fileprivate init(queue: FairQueue) { self.queue = queue }

    public func release() {
        if !released.exchange(true, ordering: .acquiringAndReleasing) { queue.release() }
    }

    deinit { release() }
}
