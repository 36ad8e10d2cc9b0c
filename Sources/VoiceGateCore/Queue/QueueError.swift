/// Why a request did not get a place at the upstream.
public enum QueueError: Error, Sendable, Equatable {
    case full(waiting: Int)
    case timedOut(after: Double)
    case shuttingDown
    /// A retry asked for another worker and the pool has only one.
    case noOtherWorker
}
