import SQLKit

/// What differs between the embedded SQLite store and a PostgreSQL one shared by several gateways: how a statement
/// finds a connection, how a transaction holds one, how migrations keep to one process at a time. Everything else
/// (`SQLGatewayStore`'s queries) is the same on both.
protocol SQLStoreBackend: Sendable {
    /// Reads, and writes of one statement that need no ordering with this process's other writes.
    var db: any SQLDatabase { get }
    /// Several gateways write to it at once: limits must be counted in it, not in memory.
    var isShared: Bool { get }
    /// One write (of one or more statements, not atomic together).
    func write<T: Sendable>(_ body: @escaping @Sendable (any SQLDatabase) async throws -> T) async throws -> T
    /// All of `body`'s statements or none.
    func transaction<T: Sendable>(_ body: @escaping @Sendable (any SQLDatabase) async throws -> T) async throws -> T
    /// `body` while no other process runs it (the migrations).
    func exclusively(_ body: @escaping @Sendable (any SQLDatabase) async throws -> Void) async throws
    func close() async throws
}
