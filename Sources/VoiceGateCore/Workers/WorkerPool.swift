import Foundation
import Logging

/// The upstream servers and the fair queue that hands them requests. Health, drain and resume go through here so
/// the queue's view of a worker and the worker's own facts never disagree.
public final class WorkerPool: Sendable {
    public let workers: [Worker]
    public let queue: FairQueue
    /// api_v2 workers load a voice's weights; the embedded engine and the adapter have none to load, and speak
    /// such a voice with what they have.
    public let loadsWeights: Bool
    private let logger: Logger

    public init(workers: [Worker], maxWaiting: Int, policy: FairQueue.Policy = .affinity, logger: Logger) {
        precondition(!workers.isEmpty && workers.indices.allSatisfy { workers[$0].slot == $0 })
        self.workers = workers
        self.logger = logger
        loadsWeights = workers.allSatisfy { $0.engine is any WeightLoading }
        queue = FairQueue(slots: workers.map { .init(capacity: $0.spec.concurrency, weights: $0.spec.weights) },
                          maxWaiting: maxWaiting, policy: policy)
    }

    public func worker(named name: String) -> Worker? { workers.first { $0.name == name } }

    public var snapshots: [Worker.Snapshot] { workers.map(\.snapshot) }

    /// It finishes what it runs and takes nothing more.
    @discardableResult
    public func drain(_ name: String) -> Worker.Snapshot? {
        guard let worker = worker(named: name) else { return nil }
        worker.setDraining(true)
        queue.setDraining(slot: worker.slot, true)
        logger.notice("worker \(name) draining")
        return worker.snapshot
    }

    @discardableResult
    public func resume(_ name: String) -> Worker.Snapshot? {
        guard let worker = worker(named: name) else { return nil }
        worker.setDraining(false)
        queue.setDraining(slot: worker.slot, false)
        logger.notice("worker \(name) resumed")
        return worker.snapshot
    }

    /// A probe's or a request's finding; the queue stops or restarts sending there at once.
    func record(_ health: Worker.Health, for worker: Worker, latency: Double? = nil, checked: Bool) {
        let previous = worker.setHealth(health, latency: latency, checked: checked)
        queue.setUp(slot: worker.slot, health.isAvailable || health == .unknown)
        if previous.word != health.word {
            let isDown = if case .down = health { true } else { false }
            logger.log(level: isDown ? .warning : .info, "worker \(worker.name) at \(worker.spec.url) is \(health.summary)")
        }
    }

    /// Loads `weights` on the worker the lease names (the queue has kept everything else off it meanwhile).
    func switchWeights(_ worker: Worker, lease: QueueLease, to weights: ModelWeights, timeout: Double) async throws {
        guard let loader = worker.engine as? any WeightLoading else {
            lease.switched(false)
            throw GatewayError.internalError("worker \(worker.name) (\(worker.engine.name)) cannot load model weights")
        }
        do {
            try await loader.load(weights, timeout: timeout)
        } catch {
            lease.switched(false)
            worker.noteSwitch(to: nil)
            throw error
        }
        worker.noteSwitch(to: weights)
        lease.switched(true)
    }
}
