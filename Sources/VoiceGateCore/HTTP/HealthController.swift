import Foundation
import Hummingbird

/// `GET /health` (public) and `GET {prefix}/voice/health` (keyed), answered from the monitor's last probe.
struct HealthController {
    let monitor: HealthMonitor
    let pool: WorkerPool
    let engineName: String
    let version: String
    let startedAt: Date
    /// The embedded espeak-ng engine: no upstream to name, and a hint how to get one.
    let embedded: Bool
    let api: UpstreamKind
    let store: StoreLocation
    let storage: StorageWatch
    let gatewayName: String

    struct StoreHealth: Encodable {
        /// `sqlite` or `postgresql`.
        let kind: String
        let reachable: Bool
    }

    struct HealthResponse: ResponseEncodable {
        let status: String
        let version: String
        let sovits_available: Bool
        let uptime_seconds: Double
        let engine: String
        let upstream: String
        let message: String?
        let workers_down: [String]
        let gateway: String
        let store: StoreHealth
    }

    struct QueueInfo: ResponseEncodable {
        let running: Int
        let waiting: Int
        let max_concurrency: Int
        let queue_max: Int
    }

    /// The seed's own answer was `{"sovits_available": <bool>}`: clients read that name; the rest is VoiceGate's.
    struct VoiceHealthResponse: ResponseEncodable {
        let sovits_available: Bool
        let engine: String
        let api: String?
        let upstream_url: String?
        let state: String
        let summary: String
        let latency_ms: Double?
        let reason: String?
        let hint: String?
        let last_checked: String?
        let queue: QueueInfo
        let workers: [WorkerHealth]
    }

    struct WorkerHealth: Encodable {
        let name: String
        let url: String
        let state: String
        let summary: String
        let latency_ms: Double?
        let reason: String?
        let available: Bool
    }

    func addPublicRoutes(to router: Router<GatewayRequestContext>) {
        router.get("health") { _, _ -> EditedResponse<HealthResponse> in
            let report = HealthReport(snapshot: monitor.snapshot, embeddedEngine: embedded)
            return EditedResponse(status: report.status == .unhealthy ? .serviceUnavailable : .ok, response: HealthResponse(
                status: report.status.rawValue, version: version, sovits_available: report.upstreamAvailable,
                uptime_seconds: (Date().timeIntervalSince(startedAt) * 1000).rounded() / 1000,
                engine: engineName, upstream: report.upstream.word, message: report.message,
                workers_down: report.downWorkers, gateway: gatewayName,
                store: StoreHealth(kind: store.kind, reachable: storage.storeReachable)))
        }
    }

    func addKeyedRoutes(to group: RouterGroup<GatewayRequestContext>) {
        group.get("voice/health") { _, _ -> VoiceHealthResponse in
            let snapshot = monitor.snapshot
            let queue = pool.queue.snapshot
            var reason: String?
            if case .down(let why) = snapshot.upstream { reason = why }
            return VoiceHealthResponse(
                sovits_available: snapshot.upstream.isAvailable && snapshot.gatewayProblem == nil,
                engine: engineName,
                api: embedded ? nil : api.rawValue,
                upstream_url: embedded ? nil : pool.workers[0].spec.url,
                state: snapshot.upstream.word,
                summary: snapshot.upstream.summary,
                latency_ms: snapshot.lastLatency.map { ($0 * 10000).rounded() / 10 },
                reason: reason ?? snapshot.gatewayProblem,
                hint: embedded ? Gateway.embeddedHint : nil,
                last_checked: snapshot.lastChecked.map { ISO8601DateFormatter().string(from: $0) },
                queue: QueueInfo(running: queue.running, waiting: queue.waiting, max_concurrency: queue.maxConcurrency,
                                 queue_max: queue.maxWaiting),
                workers: pool.snapshots.map { w in
                    var reason: String?
                    if case .down(let why) = w.health { reason = why }
                    let latency: Double? = if case .up(let l) = w.health { (l * 10000).rounded() / 10 } else { nil }
                    return WorkerHealth(name: w.name, url: w.url, state: w.draining ? "draining" : w.health.word, summary: w.summary,
                                        latency_ms: latency, reason: reason, available: w.isServing)
                })
        }
    }
}
