import SQLKit

/// SQLite: reads on one connection, every write on a second, one at a time. A transaction then holds only its own
/// statements (on a shared SQLite connection another task's statement would join it, and COMMIT fails while one is
/// active), and no two writes of this process wait for each other's lock on the thread pool.
struct SQLiteBackend: SQLStoreBackend {
    let db: any SQLDatabase
    let writer: any SQLDatabase
    private let writes = AsyncSerialGate()
    private let onClose: @Sendable () async throws -> Void

    init(reader: any SQLDatabase, writer: any SQLDatabase, onClose: @escaping @Sendable () async throws -> Void) {
        db = reader
        self.writer = writer
        self.onClose = onClose
    }

    var isShared: Bool { false }

    func write<T: Sendable>(_ body: @escaping @Sendable (any SQLDatabase) async throws -> T) async throws -> T {
        try await writes.run { try await body(writer) }
    }

    /// `BEGIN IMMEDIATE` takes the write lock at once, so a transaction never fails half-way for another process's lock.
    func transaction<T: Sendable>(_ body: @escaping @Sendable (any SQLDatabase) async throws -> T) async throws -> T {
        try await writes.run {
            try await writer.raw("BEGIN IMMEDIATE").run()
            do {
                let result = try await body(writer)
                try await writer.raw("COMMIT").run()
                return result
            } catch {
                try? await writer.raw("ROLLBACK").run()
                throw error
            }
        }
    }

    /// Each migration step is idempotent and SQLite's file lock orders the writers.
    func exclusively(_ body: @escaping @Sendable (any SQLDatabase) async throws -> Void) async throws {
        try await write(body)
    }

    func close() async throws { try await onClose() }
}
