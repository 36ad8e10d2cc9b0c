import Foundation
import VoiceGateCore

/// Everything the console shows about the running gateway, read at once from thread-safe sources.
public struct DashboardSnapshot: Sendable {
    public var title: String
    public var listen: String
    public var engineLine: String
    public var upstream: HealthMonitor.UpstreamState
    public var uptime: TimeInterval
    public var figures: RequestLog.Figures
    public var queued: Int
    /// The newest events (all of them when a filter needs them).
    public var events: [RequestEvent]
    /// How many events the gateway keeps; more than `events.count` when only the tail was taken.
    public var totalEvents: Int
    public var notice: String?

    public init(title: String, listen: String, engineLine: String, upstream: HealthMonitor.UpstreamState, uptime: TimeInterval,
                figures: RequestLog.Figures, queued: Int, events: [RequestEvent], notice: String? = nil) {
        self.title = title
        self.listen = listen
        self.engineLine = engineLine
        self.upstream = upstream
        self.uptime = uptime
        self.figures = figures
        self.queued = queued
        self.events = events
        self.totalEvents = events.count
        self.notice = notice
    }

    /// `eventLimit` nil takes the whole history (for filtering); otherwise only the newest that many.
    public static func of(_ gateway: Gateway, listen: String, notice: String?, eventLimit: Int? = nil, now: Date = Date()) -> DashboardSnapshot {
        let engine = gateway.isEmbedded ? "engine: espeak-ng (embedded) — \(Gateway.embeddedHint)"
            : "upstream: \(gateway.service.engine.target) (\(gateway.service.engine.name))"
        let (events, total) = eventLimit.map { gateway.log.events(last: $0) } ?? { let all = gateway.log.events(); return (all, all.count) }()
        var snapshot = DashboardSnapshot(title: "VoiceGate \(Gateway.version)", listen: listen, engineLine: engine,
                                         upstream: gateway.monitor.snapshot.upstream, uptime: now.timeIntervalSince(gateway.startedAt),
                                         figures: gateway.log.figures(now: now), queued: gateway.service.queue.snapshot.waiting,
                                         events: events, notice: notice)
        snapshot.totalEvents = total
        return snapshot
    }
}
