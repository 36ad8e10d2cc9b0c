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
    /// How many of the kept events carry an error code (each takes two lines in the log).
    public var keptErrors: Int
    public var notice: String?
    /// Each key's use against its limits, for the keys view.
    public var keys: [KeyRow]
    /// Each worker's state, for the workers view.
    public var workers: [Worker.Snapshot]
    /// The newest jobs on the store, and the items of the one open in it, for the jobs view.
    public var jobs: [JobSummary] = []
    public var openItems: [JobItemRecord] = []
    /// The gateways sharing the store, and which one this is, for the gateways view.
    public var gateways: [GatewayPresence] = []
    /// The gateways running requests on each worker, by worker name, for the workers view.
    public var workerHolders: [String: [String]] = [:]
    public var gatewayName = ""

    public struct KeyRow: Sendable, Equatable {
        public var usage: UsageMeter.KeyView
        /// Requests of this key waiting in the queue.
        public var waiting: Int

        public init(usage: UsageMeter.KeyView, waiting: Int) {
            self.usage = usage
            self.waiting = waiting
        }
    }

    public init(title: String, listen: String, engineLine: String, upstream: HealthMonitor.UpstreamState, uptime: TimeInterval,
                figures: RequestLog.Figures, queued: Int, events: [RequestEvent], totalEvents: Int? = nil, keptErrors: Int? = nil,
                notice: String? = nil, keys: [KeyRow] = [], workers: [Worker.Snapshot] = []) {
        self.workers = workers
        self.title = title
        self.listen = listen
        self.engineLine = engineLine
        self.upstream = upstream
        self.uptime = uptime
        self.figures = figures
        self.queued = queued
        self.events = events
        self.totalEvents = totalEvents ?? events.count
        self.keptErrors = keptErrors ?? events.filter { $0.errorCode != nil }.count
        self.notice = notice
        self.keys = keys
    }

    /// `eventLimit` nil takes the whole history (for filtering); otherwise only the newest that many.
    /// `openJob`: the job whose items the jobs view shows.
    public static func of(_ gateway: Gateway, listen: String, notice: String?, eventLimit: Int? = nil, view: MainView = .log,
                          openJob: String? = nil, now: Date = Date()) -> DashboardSnapshot {
        let (events, total) = gateway.log.events(last: eventLimit ?? Int.max)
        var keys: [KeyRow] = []
        if view == .keys {
            let waiting = gateway.service.queue.waitingByLane
            keys = gateway.meter.views(for: gateway.keys.all).map { KeyRow(usage: $0, waiting: waiting[$0.name] ?? 0) }
        }
        var snapshot = DashboardSnapshot(title: "VoiceGate \(Gateway.version)", listen: listen, engineLine: gateway.engineDescription,
                                         upstream: gateway.monitor.snapshot.upstream, uptime: now.timeIntervalSince(gateway.startedAt),
                                         figures: gateway.log.figures(now: now), queued: gateway.service.queue.snapshot.waiting,
                                         events: events, totalEvents: total, keptErrors: gateway.log.keptErrorCount, notice: notice,
                                         keys: keys, workers: view == .workers ? gateway.pool.snapshots : [])
        snapshot.gatewayName = gateway.config.gatewayName
        if view == .gateways { snapshot.gateways = gateway.roster.gateways }
        if view == .jobs {
            gateway.jobs.watch(open: openJob)
            snapshot.jobs = gateway.jobs.recent
            snapshot.openItems = gateway.jobs.openItems
        }
        if view == .workers {
            snapshot.workerHolders = Dictionary(uniqueKeysWithValues: gateway.pool.workers.map { ($0.name, gateway.holders(of: $0)) })
        }
        return snapshot
    }
}
