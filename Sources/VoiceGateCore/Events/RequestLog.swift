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
        var latencies: LatencyWindow
    }

    public let capacity: Int
    public let window: TimeInterval
    private let state: Mutex<State>

    public init(capacity: Int = 5000, window: TimeInterval = 300) {
        self.capacity = capacity
        self.window = window
        var initial = State(latencies: LatencyWindow(window: window))
        // Grown by doubling, the ring's array would end with room for 8,192 events when it keeps 5,000.
        initial.events.reserveCapacity(capacity)
        state = Mutex(initial)
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
            s.latencies.record(event.latency, at: event.time)
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

    /// Totals since the start, and the latency percentiles of the last `window` seconds (within 1%).
    public func figures(now: Date = Date()) -> Figures {
        state.withLock { s in
            let p = s.latencies.percentiles([50, 95], now: now)
            return Figures(requests: s.requests, errors: s.errors, inFlight: s.inFlight, p50: p?[0], p95: p?[1])
        }
    }

    /// Bytes the latency window holds: fixed, whatever the request rate.
    var windowFootprint: Int { state.withLock { $0.latencies.footprintInBytes } }
}
