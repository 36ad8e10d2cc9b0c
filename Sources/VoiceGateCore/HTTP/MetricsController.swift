import Hummingbird

/// `GET /metrics`: Prometheus text format. Needs an admin key unless `METRICS_PUBLIC=true`.
struct MetricsController {
    let metrics: GatewayMetrics
    let keys: KeyRing
    let lookup: KeyLookup
    let pool: WorkerPool
    let log: RequestLog
    let monitor: HealthMonitor
    let connections: ConnectionGate
    let storage: @Sendable () -> GatewayMetrics.StorageFigures
    let isPublic: Bool

    func addRoutes(to router: Router<GatewayRequestContext>) {
        router.get("metrics") { request, context -> Response in
            if !isPublic {
                guard let key = await lookup.authenticate(request.headers[.xAPIKey]) else { throw GatewayError.unauthorized }
                context.exchange.key = key
                guard key.isAdmin else { throw GatewayError.forbidden }
            }
            var byRole: [KeyRecord.Role: Int] = [:]
            for key in keys.all where key.enabled { byRole[key.role, default: 0] += 1 }
            let snapshot = monitor.snapshot
            let text = metrics.render(queue: pool.queue.snapshot, inFlight: log.inFlight,
                                      upstreamUp: snapshot.upstream.isAvailable, keysByRole: byRole, workers: pool.snapshots,
                                      connections: connections.snapshot, storage: storage())
            return Response(status: .ok, headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8"],
                            body: .init(byteBuffer: .init(string: text)))
        }
    }
}
