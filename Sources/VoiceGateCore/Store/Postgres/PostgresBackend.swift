import Logging
import NIOCore
import NIOPosix
import NIOSSL
import PostgresKit
import PostgresNIO
import SQLKit

/// PostgreSQL through postgres-nio's `PostgresClient` (its pool, run by this backend until `close`), shared by
/// every gateway that names the same database.
final class PostgresBackend: SQLStoreBackend {
    let client: PostgresClient
    let db: any SQLDatabase
    let logger: Logger
    /// How long a statement may wait for the database before its request gets `503 store_unavailable`.
    let timeout: Double
    private let running: Task<Void, Never>

    /// Any 64-bit number of our own: `pg_advisory_lock` keys are shared by every application on the database.
    static let migrationLock: Int64 = 0x566F_6963_6547_6174 // "VoiceGat"

    init(configuration: PostgresClient.Configuration, timeout: Double = 5, logger: Logger) {
        let client = PostgresClient(configuration: configuration, backgroundLogger: logger)
        self.client = client
        self.logger = logger
        self.timeout = timeout
        running = Task { await client.run() }
        db = PooledPostgresDatabase(client: client, timeout: timeout, logger: logger)
    }

    var isShared: Bool { true }

    func write<T: Sendable>(_ body: @escaping @Sendable (any SQLDatabase) async throws -> T) async throws -> T {
        try await body(db)
    }

    func transaction<T: Sendable>(_ body: @escaping @Sendable (any SQLDatabase) async throws -> T) async throws -> T {
        let (client, logger) = (self.client, self.logger)
        return try await StoreTimeout.run(seconds: timeout) {
            do {
                return try await client.withTransaction(logger: logger) { connection in
                    try await body(connection.sql(queryLogLevel: nil))
                }
            } catch let error as PostgresTransactionError {
                // What went wrong inside, not the wrapper: callers tell a lost connection from a refused statement.
                throw error.closureError ?? error.beginError ?? error.commitError ?? error.rollbackError ?? error
            }
        }
    }

    /// A session lock on one leased connection: gateways starting together migrate one after the other (a second
    /// `CREATE TABLE IF NOT EXISTS` racing the first can fail on PostgreSQL's catalog).
    func exclusively(_ body: @escaping @Sendable (any SQLDatabase) async throws -> Void) async throws {
        try await client.withConnection { connection in
            let sql = connection.sql(queryLogLevel: nil)
            try await sql.raw("SELECT pg_advisory_lock(\(bind: Self.migrationLock))").run()
            do {
                try await body(sql)
            } catch {
                _ = try? await sql.raw("SELECT pg_advisory_unlock(\(bind: Self.migrationLock))").run()
                throw error
            }
            try await sql.raw("SELECT pg_advisory_unlock(\(bind: Self.migrationLock))").run()
        }
    }

    func close() async throws { running.cancel() }
}
