import Synchronization

/// Collects finished syntheses so a burst of requests never waits on the disk; `StoreSync` writes them in
/// batches a few times a second.
public final class HistoryWriter: Sendable {
    private let pending = Mutex<[HistoryRecord]>([])
    /// Rows beyond this are dropped (and counted) rather than growing memory while the store is unavailable.
    let capacity: Int
    private let dropped = Atomic<Int>(0)

    public init(capacity: Int = 100_000) { self.capacity = capacity }

    public func append(_ record: HistoryRecord) {
        let kept = pending.withLock { rows in
            guard rows.count < capacity else { return false }
            rows.append(record)
            return true
        }
        if !kept { dropped.add(1, ordering: .relaxed) }
    }

    func take() -> [HistoryRecord] { pending.withLock { rows in defer { rows = [] }; return rows } }

    /// Puts back rows whose write failed, oldest first, ahead of newer ones.
    func putBack(_ rows: [HistoryRecord]) { pending.withLock { $0 = Array((rows + $0).prefix(capacity)) } }

    var pendingCount: Int { pending.withLock { $0.count } }

    public var droppedCount: Int { dropped.load(ordering: .relaxed) }
}
