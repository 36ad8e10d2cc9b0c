import CoreMetrics
import Foundation
import Metrics
import Prometheus
import Synchronization

/// The gateway's Prometheus figures, through swift-metrics with this gateway's own registry (not the process-wide
/// bootstrap, so two gateways in one process — tests, a console beside a server — keep apart).
public final class GatewayMetrics: Sendable {
    public let registry: PrometheusCollectorRegistry
    private let factory: PrometheusMetricsFactory
    /// Each worker's totals as last exported: its counters grow by the difference at each scrape.
    private let exported = Mutex<[String: Worker.Snapshot]>([:])
    private let exportedConnections = Mutex<ConnectionGate.Snapshot?>(nil)
    private let exportedStorage = Mutex<StorageFigures?>(nil)

    public init() {
        registry = PrometheusCollectorRegistry()
        var factory = PrometheusMetricsFactory(registry: registry)
        factory.defaultDurationHistogramBuckets = [.milliseconds(5), .milliseconds(10), .milliseconds(25), .milliseconds(50), .milliseconds(100),
                                                   .milliseconds(250), .milliseconds(500), .seconds(1), .milliseconds(2500), .seconds(5),
                                                   .seconds(10), .seconds(30), .seconds(60), .seconds(120)]
        factory.valueHistogramBuckets["voicegate_real_time_factor"] = [0.01, 0.02, 0.05, 0.1, 0.2, 0.3, 0.5, 0.75, 1, 1.5, 2, 5, 10]
        self.factory = factory
    }

    /// Every finished request; syntheses add their timings, audio and characters.
    func record(_ event: RequestEvent) {
        let key = event.key ?? "-"
        Counter(label: "voicegate_http_requests_total",
                dimensions: [("route", event.route ?? "unmatched"), ("method", event.method), ("status", String(event.status)), ("key", key)],
                factory: factory).increment()
        guard let facts = event.synthesis else { return }
        if let wait = facts.queueWait { timer("voicegate_queue_wait_seconds", wait) }
        if let ttfb = facts.timeToFirstByte { timer("voicegate_time_to_first_byte_seconds", ttfb) }
        if let upstream = facts.upstreamTime { timer("voicegate_upstream_seconds", upstream) }
        if let rtf = facts.realTimeFactor {
            Recorder(label: "voicegate_real_time_factor", dimensions: [("engine", facts.engine)], aggregate: true, factory: factory).record(rtf)
        }
        if let audio = facts.audioSeconds, audio > 0 {
            FloatingPointCounter(label: "voicegate_audio_seconds_total", dimensions: [("key", key)], factory: factory).increment(by: audio)
        }
        Counter(label: "voicegate_characters_total", dimensions: [("key", key)], factory: factory).increment(by: facts.textLength)
        Counter(label: "voicegate_syntheses_total", dimensions: [("key", key), ("status", String(event.status))], factory: factory).increment()
    }

    private func timer(_ label: String, _ seconds: Double) {
        Timer(label: label, factory: factory).recordNanoseconds(Int64((seconds * 1e9).rounded()))
    }

    /// The gauges are read when scraped.
    func render(queue: FairQueue.Snapshot, inFlight: Int, upstreamUp: Bool, keysByRole: [KeyRecord.Role: Int],
                workers: [Worker.Snapshot] = [], connections: ConnectionGate.Snapshot? = nil, storage: StorageFigures? = nil) -> String {
        for w in workers { export(w) }
        if let connections { export(connections) }
        if let storage { export(storage) }
        Gauge(label: "voicegate_queue_waiting", factory: factory).record(queue.waiting)
        Gauge(label: "voicegate_queue_running", factory: factory).record(queue.running)
        Gauge(label: "voicegate_requests_in_flight", factory: factory).record(inFlight)
        Gauge(label: "voicegate_upstream_up", factory: factory).record(upstreamUp ? 1 : 0)
        for role in KeyRecord.Role.allCases {
            Gauge(label: "voicegate_keys", dimensions: [("role", role.rawValue)], factory: factory).record(keysByRole[role] ?? 0)
        }
        return registry.emitToString()
    }

    public struct StorageFigures: Sendable, Equatable {
        var refusals: Int
        var uploadsRemoved: Int
        var uploadBytes: Int
        var historyWaiting: Int
    }

    /// Writes refused for want of space, uploads the janitor removed, what the kept ones take, history rows waiting.
    private func export(_ s: StorageFigures) {
        let before = exportedStorage.withLock { e in defer { e = s }; return e }
        Counter(label: "voicegate_storage_full_total", factory: factory).increment(by: max(0, s.refusals - (before?.refusals ?? 0)))
        Counter(label: "voicegate_uploads_removed_total", factory: factory).increment(by: max(0, s.uploadsRemoved - (before?.uploadsRemoved ?? 0)))
        Gauge(label: "voicegate_upload_bytes", factory: factory).record(s.uploadBytes)
        Gauge(label: "voicegate_history_rows_waiting", factory: factory).record(s.historyWaiting)
    }

    /// Open connections, and those refused, closed to make room or closed for slowness since the last scrape.
    private func export(_ c: ConnectionGate.Snapshot) {
        Gauge(label: "voicegate_connections_open", factory: factory).record(c.open)
        let before = exportedConnections.withLock { e in defer { e = c }; return e }
        for reason in ConnectionGate.Refusal.allCases {
            Counter(label: "voicegate_connections_refused_total", dimensions: [("limit", reason.rawValue)], factory: factory)
                .increment(by: max(0, c.refused[reason, default: 0] - (before?.refused[reason] ?? 0)))
        }
        Counter(label: "voicegate_connections_evicted_total", factory: factory).increment(by: max(0, c.evicted - (before?.evicted ?? 0)))
        for reason in ConnectionGate.Timeout.allCases {
            Counter(label: "voicegate_connections_timed_out_total", dimensions: [("phase", reason.rawValue)], factory: factory)
                .increment(by: max(0, c.timedOut[reason, default: 0] - (before?.timedOut[reason] ?? 0)))
        }
    }

    /// Per worker: up, busy now, and its totals (busy seconds, requests finished, those failed, weight switches).
    private func export(_ w: Worker.Snapshot) {
        let worker = [("worker", w.name)]
        Gauge(label: "voicegate_worker_up", dimensions: worker, factory: factory).record(w.isServing ? 1 : 0)
        Gauge(label: "voicegate_worker_running", dimensions: worker, factory: factory).record(w.current.count)
        let before = exported.withLock { e in defer { e[w.name] = w }; return e[w.name] }
        FloatingPointCounter(label: "voicegate_worker_busy_seconds_total", dimensions: worker, factory: factory)
            .increment(by: max(0, w.busySeconds - (before?.busySeconds ?? 0)))
        Counter(label: "voicegate_worker_requests_total", dimensions: worker, factory: factory)
            .increment(by: max(0, w.done + w.failed - (before.map { $0.done + $0.failed } ?? 0)))
        Counter(label: "voicegate_worker_failures_total", dimensions: worker, factory: factory).increment(by: max(0, w.failed - (before?.failed ?? 0)))
        Counter(label: "voicegate_worker_switches_total", dimensions: worker, factory: factory).increment(by: max(0, w.switches - (before?.switches ?? 0)))
    }
}
