import Synchronization

/// A request's place on a worker and its entry in that worker's facts: released once, when the upstream's
/// answer has ended (so the worker's next request starts while the gateway still writes this one out).
public final class WorkerLease: Sendable {
    public let worker: Worker
    private let place: QueueLease
    private let job: UInt64
    /// The place claimed on the board several gateways share, if they do: marked ended there first, so that this
    /// gateway's next request on the worker may take it over while it is being given back.
    private let shared: SharedPlace?
    private let released = Atomic<Bool>(false)

    struct SharedPlace: Sendable {
        let board: WorkerLeaseBoard
        let place: Int
        let request: String
    }

    init(worker: Worker, place: QueueLease, job: UInt64, shared: SharedPlace? = nil) {
        self.worker = worker
        self.place = place
        self.job = job
        self.shared = shared
    }

    func release(_ outcome: Worker.Outcome) {
        guard !released.exchange(true, ordering: .acquiringAndReleasing) else { return }
        worker.end(job, outcome: outcome)
        guard let shared else { return place.release() }
        shared.board.ended(request: shared.request)
        place.release()
        let worker = self.worker
        Task { await shared.board.release(worker, place: shared.place, request: shared.request) }
    }

    deinit { release(.abandoned) }
}
