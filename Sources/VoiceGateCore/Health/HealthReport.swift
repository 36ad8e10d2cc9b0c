/// What `/health` says: `healthy` while any worker is up or busy (the down ones named in `message`), `degraded`
/// when every worker is down or storage refuses writes (a full disk), `unhealthy` when the gateway itself cannot
/// serve (reference folder not writable, or the embedded engine missing).
public struct HealthReport: Sendable, Equatable {
    public enum Status: String, Sendable { case healthy, degraded, unhealthy }
    public var status: Status
    public var upstream: HealthMonitor.UpstreamState
    public var upstreamAvailable: Bool
    public var message: String?
    /// Workers that are down, by name.
    public var downWorkers: [String]

    public init(snapshot: HealthMonitor.Snapshot, embeddedEngine: Bool) {
        upstream = snapshot.upstream
        upstreamAvailable = snapshot.upstream.isAvailable
        downWorkers = snapshot.downWorkers.map(\.name)
        if let problem = snapshot.gatewayProblem {
            status = .unhealthy
            message = problem
        } else if case .down(let reason) = snapshot.upstream {
            status = embeddedEngine ? .unhealthy : .degraded
            message = embeddedEngine ? reason : "upstream unreachable: \(reason)"
        } else if let problem = snapshot.storageProblem {
            status = .degraded
            message = problem
        } else {
            status = .healthy
            message = snapshot.downWorkers.isEmpty ? nil
                : "\(snapshot.downWorkers.count) of \(snapshot.workerCount) workers down: "
                    + snapshot.downWorkers.map { "\($0.name) (\($0.reason))" }.joined(separator: ", ")
        }
    }
}
