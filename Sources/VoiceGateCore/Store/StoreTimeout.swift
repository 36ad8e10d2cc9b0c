import Synchronization

/// Bounds a store operation: past `seconds` it is cancelled and `StoreError.unavailable` thrown, so that a database
/// that went away answers the request with a 503 in seconds, not when the pool gives up.
enum StoreTimeout {
    static func run<T: Sendable>(seconds: Double, _ operation: @escaping @Sendable () async throws -> T) async throws -> T {
        let task = Task { try await operation() }
        let expired = Flag()
        // NIO's timer, not Task.sleep: a cancelled sleep holds its timer until the deadline (`Deadline`).
        let timer = Deadline.after(seconds) {
            expired.value.store(true, ordering: .relaxed)
            task.cancel()
        }
        defer { timer.cancel() }
        do {
            return try await withTaskCancellationHandler { try await task.value } onCancel: { task.cancel() }
        } catch where expired.value.load(ordering: .relaxed) {
            throw StoreError.unavailable("the store did not answer within \(Int(seconds)) s (\(error))")
        }
    }
}

private final class Flag: Sendable {
    let value = Atomic<Bool>(false)
}
