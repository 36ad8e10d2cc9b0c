import Synchronization

/// The gate in front of the upstream: at most `maxConcurrency` requests run, at most `maxWaiting` wait, each waits
/// at most `timeout`, and a cancelled waiter leaves at once. Waiters are grouped in lanes (one per key): a freed
/// place goes round-robin across the lanes that wait, first-in first-out within a lane, so a key that queues
/// hundreds of requests delays another key's request by at most one of its own.
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
        var lanes: [String: [Waiter]] = [:]
        /// Lanes that have waiters, in serving order; `cursor` is the one served next.
        var order: [String] = []
        var cursor = 0
        var waiting = 0
        var nextID: UInt64 = 1
        var closed = false

        mutating func append(_ waiter: Waiter, lane: String) {
            if lanes[lane] == nil {
                // A new lane joins at the end of the round: just before the one served next.
                order.insert(lane, at: cursor)
                cursor += 1
                if cursor >= order.count { cursor = 0 }
            }
            lanes[lane, default: []].append(waiter)
            waiting += 1
        }

        mutating func popNext() -> Waiter? {
            guard !order.isEmpty else { return nil }
            if cursor >= order.count { cursor = 0 }
            let lane = order[cursor]
            let waiter = lanes[lane]!.removeFirst()
            waiting -= 1
            if lanes[lane]!.isEmpty {
                lanes[lane] = nil
                order.remove(at: cursor)
            } else {
                cursor += 1
            }
            if cursor >= order.count { cursor = 0 }
            return waiter
        }

        mutating func remove(_ id: UInt64) -> Waiter? {
            for (index, lane) in order.enumerated() {
                guard let at = lanes[lane]!.firstIndex(where: { $0.id == id }) else { continue }
                let waiter = lanes[lane]!.remove(at: at)
                waiting -= 1
                if lanes[lane]!.isEmpty {
                    lanes[lane] = nil
                    order.remove(at: index)
                    if index < cursor { cursor -= 1 }
                    if cursor >= order.count { cursor = 0 }
                }
                return waiter
            }
            return nil
        }

        /// How many waiters the round-robin serves before this one, plus one.
        func position(of id: UInt64) -> Int? {
            let rotation = order.indices.map { order[($0 + cursor) % order.count] }
            for (r, lane) in rotation.enumerated() {
                guard let i = lanes[lane]!.firstIndex(where: { $0.id == id }) else { continue }
                var ahead = i
                for (other, name) in rotation.enumerated() where other != r {
                    ahead += min(lanes[name]!.count, other < r ? i + 1 : i)
                }
                return ahead + 1
            }
            return nil
        }
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
        state.withLock { Snapshot(running: $0.running, waiting: $0.waiting, maxConcurrency: maxConcurrency, maxWaiting: maxWaiting) }
    }

    /// Waiters per lane, for the console's keys view.
    public var waitingByLane: [String: Int] { state.withLock { $0.lanes.mapValues(\.count) } }

    /// A ticket names a place in the line before it is taken, so a caller can ask for its position.
    public func makeTicket() -> UInt64 {
        state.withLock { s in defer { s.nextID += 1 }; return s.nextID }
    }

    /// 1 for the first waiter; nil when the ticket is not waiting (running, gone or not queued yet).
    public func position(of ticket: UInt64) -> Int? {
        state.withLock { $0.position(of: ticket) }
    }

    /// Waits for a place; the returned lease must be released when the upstream work is done.
    public func acquire(ticket: UInt64? = nil, lane: String = "", timeout: Double) async throws -> QueueLease {
        let id = ticket ?? makeTicket()
        enum Admission { case now, wait, full(Int), closed }
        let admission: Admission = state.withLock { s in
            if s.closed { return .closed }
            if s.running < maxConcurrency && s.waiting == 0 { s.running += 1; return .now }
            if s.waiting >= maxWaiting { return .full(s.waiting) }
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
                    if s.running < maxConcurrency && s.waiting == 0 { s.running += 1; return .admitted }
                    s.append(Waiter(id: id, continuation: continuation), lane: lane)
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
        let waiter: Waiter? = state.withLock { $0.remove(id) }
        waiter?.continuation.resume(throwing: error)
    }

    fileprivate func release() {
        let next: Waiter? = state.withLock { s in
            guard let next = s.popNext() else { s.running -= 1; return nil }
            return next // the place passes straight to the next in line
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
