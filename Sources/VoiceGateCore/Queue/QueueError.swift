/// Why a request did not get a place at the upstream.
public enum QueueError: Error, Sendable, Equatable {
    case full(waiting: Int)
    case timedOut(after: Double)
    case shuttingDown
    /// A retry asked for another worker and the pool has only one.
    case noOtherWorker
    /// Every worker is draining: nothing would take the request until one is resumed.
    case allDraining
}
