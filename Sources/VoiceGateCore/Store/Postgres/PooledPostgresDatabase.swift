import Logging
import NIOCore
import PostgresKit
import PostgresNIO
import SQLKit

/// SQLKit's `SQLDatabase` on postgres-nio's `PostgresClient`: each statement leases a pooled connection for itself.
/// A statement that cannot get an answer within `timeout` (the server gone, the pool waiting on a reconnect that
/// would take up to a minute to give up) throws `StoreError.unavailable` instead of holding its request.
struct PooledPostgresDatabase: SQLDatabase {
    let client: PostgresClient
    let timeout: Double
    let logger: Logger
    var eventLoop: any EventLoop { MultiThreadedEventLoopGroup.singleton.any() }
    var dialect: any SQLDialect { PostgresDialect() }
    var queryLogLevel: Logger.Level? { nil }

    func execute(sql query: any SQLExpression, _ onRow: @escaping @Sendable (any SQLRow) -> Void) -> EventLoopFuture<Void> {
        let promise = eventLoop.makePromise(of: Void.self)
        promise.completeWithTask { try await self.execute(sql: query, onRow) }
        return promise.futureResult
    }

    func execute(sql query: any SQLExpression, _ onRow: @escaping @Sendable (any SQLRow) -> Void) async throws {
        let client = self.client
        try await StoreTimeout.run(seconds: timeout) {
            try await client.withConnection { connection in
                try await connection.sql(queryLogLevel: nil).execute(sql: query, onRow)
            }
        }
    }
}
