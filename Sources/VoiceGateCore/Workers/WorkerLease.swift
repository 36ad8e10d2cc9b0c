/// A request's place on a worker and its entry in that worker's facts: released once, when the upstream's
/// answer has ended (so the worker's next request starts while the gateway still writes this one out).
public final class WorkerLease: Sendable {
    public let worker: Worker
    private let place: QueueLease
    private let job: UInt64

    init(worker: Worker, place: QueueLease, job: UInt64) {
        self.worker = worker
        self.place = place
        self.job = job
    }

    func release(_ outcome: Worker.Outcome) {
        place.release()
        worker.end(job, outcome: outcome)
    }

    deinit { release(.abandoned) }
}
