import Foundation
import Logging
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
        public var upstream: UpstreamState = .unknown
        public var lastLatency: Double?
        public var lastChecked: Date?
        /// Why the gateway itself cannot serve (reference folder not writable), if it cannot.
        public var gatewayProblem: String?
    }

    /// Long enough that a loaded machine is not mistaken for a dead upstream; the interval only sets how often.
    static let probeTimeout = 2.0
    private let engine: any SynthesisEngine
    private let queue: FairQueue
    private let store: ReferenceStore
    private let interval: Double
    private let logger: Logger
    private let state = Mutex(Snapshot())

    public init(engine: any SynthesisEngine, queue: FairQueue, store: ReferenceStore, interval: Double, logger: Logger) {
        self.engine = engine
        self.queue = queue
        self.store = store
        self.interval = interval
        self.logger = logger
    }

    public var snapshot: Snapshot { state.withLock { $0 } }

    public func run() async throws {
        while !Task.isCancelled && !Task.isShuttingDownGracefully {
            await check()
            try? await cancelWhenGracefulShutdown {
                try await Task.sleep(for: .milliseconds(Int64(self.interval * 1000)))
            }
        }
    }

    /// One probe of the engine and the reference folder.
    public func check() async {
        let problem = store.writableProblem()
        let outcome = await engine.probe(timeout: Self.probeTimeout)
        // Cut short by shutdown: it says nothing about the upstream.
        if Task.isCancelled { return }
        let busy = queue.snapshot.running > 0
        let previous = snapshot.upstream
        let next: UpstreamState
        switch outcome {
        case .up(let latency): next = .up(latency: latency)
        case .failed(_, let timedOut) where timedOut && busy: next = .busy
        case .failed(let reason, _): next = .down(reason: reason)
        }
        state.withLock { s in
            s.upstream = next
            if case .up(let latency) = next { s.lastLatency = latency }
            s.lastChecked = Date()
            s.gatewayProblem = problem
        }
        if previous.word != next.word {
            // Going down is worth a warning: the console shows it in its footer and log watchers catch it.
            let isDown = if case .down = next { true } else { false }
            logger.log(level: isDown ? .warning : .info, "upstream \(engine.target) is \(next.summary)")
        }
    }
}
