import Foundation
import ServiceLifecycle
import Synchronization

/// Probes the engine in the background so `/health` answers instantly from the last result.
public final class HealthMonitor: Service, Sendable {
    public enum UpstreamState: Sendable, Equatable {
        case unknown
        case up(latency: Double)
        /// The probe timed out while requests were running: the upstream is working, not gone.
        case busy
        case down(reason: String)

        public var isAvailable: Bool {
            switch self {
            case .up, .busy: return true
            case .unknown, .down: return false
            }
        }

        /// `UP 18 ms`, `BUSY`, `DOWN (connection refused)`.
        public var summary: String {
            switch self {
            case .unknown: return "CHECKING"
            case .up(let latency): return "UP \(Int((latency * 1000).rounded())) ms"
            case .busy: return "BUSY"
            case .down(let reason): return "DOWN (\(reason))"
            }
        }

        public var word: String {
            switch self {
            case .unknown: return "unknown"
            case .up: return "up"
            case .busy: return "busy"
            case .down: return "down"
            }
        }
    }

    public struct Snapshot: Sendable, Equatable {
        /// The pool as one upstream: up while any worker is up (the fastest one's latency), busy while the rest
        /// are busy, down when every worker is down.
        public var upstream: UpstreamState = .unknown
        public var lastLatency: Double?
        public var lastChecked: Date?
        /// Why the gateway itself cannot serve (reference folder not writable), if it cannot.
        public var gatewayProblem: String?
        /// A full disk or a store that refuses writes: serving, but not everything (`degraded`).
        public var storageProblem: String?
        /// Workers that are down, by name, with why.
        public var downWorkers: [(name: String, reason: String)] = []
        public var workerCount = 1

        public static func == (a: Snapshot, b: Snapshot) -> Bool {
            a.upstream == b.upstream && a.lastLatency == b.lastLatency && a.lastChecked == b.lastChecked
                && a.gatewayProblem == b.gatewayProblem && a.storageProblem == b.storageProblem && a.downWorkers.map(\.name) == b.downWorkers.map(\.name)
                && a.downWorkers.map(\.reason) == b.downWorkers.map(\.reason) && a.workerCount == b.workerCount
        }
    }

    /// Long enough that a loaded machine is not mistaken for a dead upstream; the interval only sets how often.
    static let probeTimeout = 2.0
    private let pool: WorkerPool
    private let store: ReferenceStore
    private let interval: Double
    private let gatewayProblem = Mutex<String?>(nil)
    /// Saved voices whose recordings are not in this gateway's folder (a folder not shared with the others).
    private let voices: VoiceLibrary?
    private let voicesProblem = Mutex<String?>(nil)

    public init(pool: WorkerPool, store: ReferenceStore, voices: VoiceLibrary? = nil, interval: Double) {
        self.pool = pool
        self.store = store
        self.voices = voices
        self.interval = interval
    }

    public var snapshot: Snapshot {
        let workers = pool.snapshots
        var s = Snapshot()
        s.workerCount = workers.count
        s.gatewayProblem = gatewayProblem.withLock { $0 }
        let problems = [store.watch.problem, voicesProblem.withLock { $0 }].compactMap { $0 }
        s.storageProblem = problems.isEmpty ? nil : problems.joined(separator: "; ")
        s.lastChecked = workers.compactMap(\.lastChecked).max()
        s.downWorkers = workers.compactMap { w in
            if case .down(let reason) = w.health { return (w.name, reason) }
            return nil
        }
        let up = workers.compactMap { w -> Double? in if case .up(let latency) = w.health { return latency }; return nil }
        if let fastest = up.min() {
            s.upstream = .up(latency: fastest)
            s.lastLatency = fastest
        } else if workers.contains(where: { $0.health == .busy }) {
            s.upstream = .busy
            s.lastLatency = workers.compactMap(\.lastLatency).min()
        } else if !s.downWorkers.isEmpty, s.downWorkers.count == workers.count {
            s.upstream = .down(reason: workers.count == 1 ? s.downWorkers[0].reason
                               : s.downWorkers.map { "\($0.name): \($0.reason)" }.joined(separator: "; "))
            s.lastLatency = workers.compactMap(\.lastLatency).min()
        }
        return s
    }

    public func run() async throws {
        while !Task.isCancelled && !Task.isShuttingDownGracefully {
            await check()
            try? await cancelWhenGracefulShutdown {
                try await Task.sleep(for: .milliseconds(Int64(self.interval * 1000)))
            }
        }
    }

    /// One probe of every worker, all at once, and of the reference folder.
    public func check() async {
        let problem = store.writableProblem()
        gatewayProblem.withLock { $0 = problem }
        // A store that cannot be read says nothing about the files: the last word stands.
        if let missing = try? await voices?.missingRecordings() {
            let text = missing.isEmpty ? nil : "voices missing their recording in this gateway's SOVITS_REF_DIR: " + missing.prefix(10).joined(separator: ", ")
            voicesProblem.withLock { $0 = text }
        }
        await withTaskGroup(of: Void.self) { group in
            for worker in pool.workers {
                group.addTask { await self.check(worker) }
            }
        }
    }

    func check(_ worker: Worker) async {
        let outcome = await worker.engine.probe(timeout: Self.probeTimeout)
        // Cut short by shutdown: it says nothing about the upstream.
        if Task.isCancelled { return }
        switch outcome {
        case .up(let latency): pool.record(.up(latency: latency), for: worker, latency: latency, checked: true)
        case .failed(_, let timedOut) where timedOut && worker.isRunning: pool.record(.busy, for: worker, checked: true)
        case .failed(let reason, _): pool.record(.down(reason: reason), for: worker, checked: true)
        }
    }
}
