import Foundation
import Synchronization

/// A bounded history of finished requests and the figures derived from it, shared by the server and the console.
public final class RequestLog: Sendable {
    public struct Figures: Sendable, Equatable {
        public var requests: Int
        public var errors: Int
        public var inFlight: Int
        public var p50: Double?
        public var p95: Double?
    }

    private struct State {
        var events: [RequestEvent] = []
        var start = 0 // ring buffer head once full
        var nextSequence = 1
        var requests = 0
        var errors = 0
        var inFlight = 0
        /// Kept events that carry an error code.
        var keptErrors = 0
        var recent: [(time: Date, latency: Double)] = []
    }

    public let capacity: Int
    public let window: TimeInterval
    private let state = Mutex(State())

    public init(capacity: Int = 5000, window: TimeInterval = 300) {
        self.capacity = capacity
        self.window = window
    }

    public func requestStarted() { state.withLock { $0.inFlight += 1 } }

    public func record(_ event: RequestEvent, wasInFlight: Bool = true) {
        state.withLock { s in
            var event = event
            event.sequence = s.nextSequence
            s.nextSequence += 1
            if wasInFlight { s.inFlight -= 1 }
            s.requests += 1
            if event.isError { s.errors += 1 }
            if event.errorCode != nil { s.keptErrors += 1 }
            if s.events.count < capacity {
                s.events.append(event)
            } else {
                if s.events[s.start].errorCode != nil { s.keptErrors -= 1 }
                s.events[s.start] = event
                s.start = (s.start + 1) % capacity
            }
            s.recent.append((event.time, event.latency))
            let cutoff = event.time.addingTimeInterval(-window)
            if let first = s.recent.first, first.time < cutoff {
                s.recent.removeFirst(s.recent.firstIndex { $0.time >= cutoff } ?? s.recent.count)
            }
        }
    }

    /// Events in order, oldest first; only those after `sequence` when given.
    public func events(after sequence: Int = 0) -> [RequestEvent] {
        state.withLock { s in
            let ordered = Array(s.events[s.start...] + s.events[..<s.start])
            guard sequence > 0 else { return ordered }
            return ordered.filter { $0.sequence > sequence }
        }
    }

    /// The newest `count` events, oldest first, plus how many events are kept in all.
    public func events(last count: Int) -> (events: [RequestEvent], total: Int) {
        state.withLock { s in
            let total = s.events.count
            let n = min(count, total)
            var out: [RequestEvent] = []
            out.reserveCapacity(n)
            for i in (total - n)..<total { out.append(s.events[(s.start + i) % total]) }
            return (out, total)
        }
    }

    /// How many kept events carry an error code, without copying the history.
    public var keptErrorCount: Int { state.withLock { $0.keptErrors } }

    public var inFlight: Int { state.withLock { $0.inFlight } }

    public var lastSequence: Int { state.withLock { $0.nextSequence - 1 } }

    public func figures(now: Date = Date()) -> Figures {
        let (requests, errors, inFlight, latencies) = state.withLock { s in
            let cutoff = now.addingTimeInterval(-window)
            return (s.requests, s.errors, s.inFlight, s.recent.filter { $0.time >= cutoff }.map(\.latency))
        }
        let sorted = latencies.sorted()
        func percentile(_ p: Double) -> Double? {
            guard !sorted.isEmpty else { return nil }
            let rank = Int((p * Double(sorted.count)).rounded(.up)) // nearest-rank percentile
            return sorted[min(sorted.count, max(1, rank)) - 1]
        }
        return Figures(requests: requests, errors: errors, inFlight: inFlight, p50: percentile(0.5), p95: percentile(0.95))
    }
}
