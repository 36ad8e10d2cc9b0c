/// What `/health` says: `healthy` (engine up or busy), `degraded` (upstream down),
/// `unhealthy` (the gateway itself cannot serve: storage, or the embedded engine missing).
public struct HealthReport: Sendable, Equatable {
    public enum Status: String, Sendable { case healthy, degraded, unhealthy }
    public var status: Status
    public var upstream: HealthMonitor.UpstreamState
    public var upstreamAvailable: Bool
    public var message: String?

    public init(snapshot: HealthMonitor.Snapshot, embeddedEngine: Bool) {
        upstream = snapshot.upstream
        upstreamAvailable = snapshot.upstream.isAvailable
        if let problem = snapshot.gatewayProblem {
            status = .unhealthy
            message = problem
        } else if case .down(let reason) = snapshot.upstream {
            status = embeddedEngine ? .unhealthy : .degraded
            message = embeddedEngine ? reason : "upstream unreachable: \(reason)"
        } else {
            status = .healthy
            message = nil
        }
    }
}
