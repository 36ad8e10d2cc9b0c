import Foundation
import Synchronization

/// One upstream server at run time: its engine, health, the requests it runs, what it has loaded and its counts.
/// The queue decides where requests go; a worker only keeps the facts operators read.
public final class Worker: Sendable {
    public typealias Health = HealthMonitor.UpstreamState

    public struct Current: Sendable, Equatable {
        public var key: String
        public var voice: String?
        public var started: Date
    }

    public struct Snapshot: Sendable, Equatable {
        public var name: String
        public var url: String
        public var tags: [String]
        public var concurrency: Int
        public var health: Health = .unknown
        public var lastLatency: Double?
        public var lastChecked: Date?
        /// When it was last seen going down, with the full reason.
        public var downSince: Date?
        public var draining = false
        public var loaded: ModelWeights?
        public var current: [Current] = []
        public var done = 0
        public var failed = 0
        public var switches = 0
        public var busySeconds = 0.0

        /// Takes requests (up or busy, not draining).
        public var isServing: Bool { health.isAvailable && !draining }

        /// `UP 18 ms`, `BUSY`, `DOWN (connection refused)`, `DRAINING`, `CHECKING`.
        public var summary: String {
            if draining { return current.isEmpty ? "DRAINING" : "DRAINING (\(current.count) running)" }
            if case .down = health { return health.summary }
            if !current.isEmpty { return "BUSY" }
            return health.summary
        }
    }

    public let spec: WorkerSpec
    /// Its index in the pool and the queue.
    public let slot: Int
    public let engine: any SynthesisEngine
    private let state: Mutex<(snapshot: Snapshot, running: [UInt64: Current], nextID: UInt64)>

    public init(spec: WorkerSpec, slot: Int, engine: any SynthesisEngine) {
        self.spec = spec
        self.slot = slot
        self.engine = engine
        let first = Snapshot(name: spec.name, url: spec.url, tags: spec.tags, concurrency: spec.concurrency, loaded: spec.weights)
        state = Mutex((first, [:], 1))
    }

    public var name: String { spec.name }

    public var snapshot: Snapshot {
        state.withLock { s in
            var out = s.snapshot
            out.current = s.running.sorted { $0.key < $1.key }.map(\.value)
            return out
        }
    }

    public var health: Health { state.withLock { $0.snapshot.health } }

    /// A request starts here; the id ends it.
    func begin(key: String, voice: String?) -> UInt64 {
        state.withLock { s in
            let id = s.nextID
            s.nextID += 1
            s.running[id] = Current(key: key, voice: voice, started: Date())
            return id
        }
    }

    public enum Outcome: Sendable { case done, failed, abandoned }

    func end(_ id: UInt64, outcome: Outcome) {
        state.withLock { s in
            guard let current = s.running.removeValue(forKey: id) else { return }
            s.snapshot.busySeconds += Date().timeIntervalSince(current.started)
            switch outcome {
            case .done: s.snapshot.done += 1
            case .failed: s.snapshot.failed += 1
            case .abandoned: break
            }
        }
    }

    func noteSwitch(to weights: ModelWeights?) {
        state.withLock { s in
            s.snapshot.switches += 1
            s.snapshot.loaded = weights
        }
    }

    func setDraining(_ draining: Bool) { state.withLock { $0.snapshot.draining = draining } }

    /// What a probe or a failed connection found. Returns the previous health.
    @discardableResult
    func setHealth(_ health: Health, latency: Double? = nil, checked: Bool) -> Health {
        state.withLock { s in
            let previous = s.snapshot.health
            s.snapshot.health = health
            if let latency { s.snapshot.lastLatency = latency }
            if checked { s.snapshot.lastChecked = Date() }
            if case .down = health {
                if case .down = previous {} else { s.snapshot.downSince = Date() }
            } else {
                s.snapshot.downSince = nil
            }
            return previous
        }
    }

    var isRunning: Bool { state.withLock { !$0.running.isEmpty } }
}
