import Foundation
import Hummingbird

/// The admin workers API under the prefix: `GET workers`, `POST workers/{name}/drain`, `POST workers/{name}/resume`.
struct WorkersController {
    let pool: WorkerPool
    /// Drains or resumes here and, with shared workers, for every gateway.
    let setDraining: @Sendable (String, Bool) async throws -> Worker.Snapshot?
    /// The gateways running requests on a worker.
    let holders: @Sendable (Worker) -> [String]

    struct RunningJSON: Encodable {
        let key: String
        let voice: String?
        let elapsed_seconds: Double
    }

    struct WorkerJSON: ResponseEncodable {
        let name: String
        let url: String
        let tags: [String]
        let concurrency: Int
        /// up, busy, down, draining or unknown.
        let state: String
        let summary: String
        let latency_ms: Double?
        let reason: String?
        let down_since: String?
        let last_checked: String?
        let draining: Bool
        let gpt_weights: String?
        let sovits_weights: String?
        let running: [RunningJSON]
        /// The gateways running requests on it now (several when the gateways share their workers).
        let gateways: [String]
        let done: Int
        let failed: Int
        let switches: Int
        let busy_seconds: Double
    }

    struct WorkerList: ResponseEncodable {
        let workers: [WorkerJSON]
        let policy: String
        let waiting: Int
    }

    func addRoutes(to group: RouterGroup<GatewayRequestContext>) {
        group.get("workers") { _, context -> WorkerList in
            _ = try context.requireAdmin()
            let formatter = ISO8601DateFormatter()
            return WorkerList(workers: pool.workers.map { Self.json($0.snapshot, formatter, gateways: holders($0)) },
                              policy: pool.queue.policy.rawValue, waiting: pool.queue.snapshot.waiting)
        }
        group.post("workers/{name}/drain") { _, context -> WorkerJSON in
            _ = try context.requireAdmin()
            guard let worker = try await setDraining(try Self.name(context), true) else { throw Self.notFound }
            return Self.json(worker, ISO8601DateFormatter(), gateways: [])
        }
        group.post("workers/{name}/resume") { _, context -> WorkerJSON in
            _ = try context.requireAdmin()
            guard let worker = try await setDraining(try Self.name(context), false) else { throw Self.notFound }
            return Self.json(worker, ISO8601DateFormatter(), gateways: [])
        }
    }

    static let notFound = GatewayError(404, "worker_not_found", "no worker has that name (GET workers lists them)")

    private static func name(_ context: GatewayRequestContext) throws -> String {
        guard let name = context.parameters.get("name"), WorkerSpec.isValidName(name) else { throw notFound }
        return name
    }

    static func json(_ w: Worker.Snapshot, _ formatter: ISO8601DateFormatter, gateways: [String]) -> WorkerJSON {
        var reason: String?
        if case .down(let why) = w.health { reason = why }
        let now = Date()
        let latency: Double? = if case .up(let l) = w.health { (l * 10000).rounded() / 10 } else { nil }
        return WorkerJSON(
            name: w.name, url: w.url, tags: w.tags, concurrency: w.concurrency, state: w.draining ? "draining" : w.health.word,
            summary: w.summary, latency_ms: latency, reason: reason,
            down_since: w.downSince.map { formatter.string(from: $0) }, last_checked: w.lastChecked.map { formatter.string(from: $0) },
            draining: w.draining, gpt_weights: w.loaded?.gpt, sovits_weights: w.loaded?.sovits,
            running: w.current.map { RunningJSON(key: $0.key, voice: $0.voice, elapsed_seconds: (now.timeIntervalSince($0.started) * 1000).rounded() / 1000) },
            gateways: gateways,
            done: w.done, failed: w.failed, switches: w.switches, busy_seconds: (w.busySeconds * 1000).rounded() / 1000)
    }
}
