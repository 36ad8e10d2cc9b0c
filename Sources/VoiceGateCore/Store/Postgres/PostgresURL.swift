import Foundation
import Logging
import NIOPosix
import NIOSSL
import PostgresKit
import PostgresNIO

/// `STORE_URL=postgres://USER[:PASSWORD]@HOST[:PORT]/DB[?sslmode=disable|prefer|require]`, parsed by PostgresKit.
struct PostgresURL: Sendable {
    let connection: PostgresConnection.Configuration
    /// The URL without its password, for logs and `/health`.
    let redacted: String

    init(_ url: String) throws {
        do {
            connection = try SQLPostgresConfiguration(url: url).coreConfiguration
        } catch {
            throw ConfigError("STORE_URL is not a PostgreSQL URL PostgresKit can read: postgres://USER[:PASSWORD]@HOST[:PORT]/DB[?sslmode=disable|prefer|require]")
        }
        guard var parts = URLComponents(string: url) else { throw ConfigError("STORE_URL is not a URL") }
        if parts.password != nil { parts.password = "***" }
        redacted = parts.string ?? "postgres://"
    }

    /// The pool's configuration, from the same settings (`PostgresClient` reads no URL itself).
    var client: PostgresClient.Configuration {
        let tls: PostgresClient.Configuration.TLS = switch (connection.tls.isEnforced, connection.tls.isAllowed) {
        case (true, _): .require(connection.tls.sslContext!.configuration)
        case (_, true): .prefer(connection.tls.sslContext!.configuration)
        default: .disable
        }
        var configuration = PostgresClient.Configuration(host: connection.host ?? "localhost", port: connection.port ?? 5432,
                                                         username: connection.username, password: connection.password,
                                                         database: connection.database, tls: tls)
        configuration.options.connectTimeout = .seconds(5)
        // Between connections that sit idle, a store that went away is found by the next statement, not a minute later.
        configuration.options.keepAliveBehavior = .init(frequency: .seconds(10))
        return configuration
    }

    /// One connection and `SELECT 1`, so that a wrong address, password or database stops the start with the
    /// server's own reason instead of failing the first request.
    func check(logger: Logger) async throws {
        let connection: PostgresConnection
        do {
            connection = try await PostgresConnection.connect(on: MultiThreadedEventLoopGroup.singleton.any(), configuration: self.connection,
                                                              id: 0, logger: logger).get()
        } catch {
            throw StoreError.unavailable("cannot connect to the store \(redacted): \(Self.reason(error))")
        }
        do {
            _ = try await connection.query("SELECT 1", logger: logger)
            try? await connection.close()
        } catch {
            try? await connection.close()
            throw StoreError.unavailable("the store \(redacted) does not answer: \(Self.reason(error))")
        }
    }

    /// What went wrong in one line: the server's message when it sent one (wrong password, no such database), else
    /// the connection's error. `PSQLError`'s own description hides both on purpose.
    static func isConnectionProblem(_ error: any Error) -> Bool {
        guard let error = error as? PSQLError else { return false }
        guard error.code == .server else { return true }
        // Connection exceptions, insufficient resources, operator intervention (the server shutting down).
        let state = error.serverInfo?[.sqlState] ?? ""
        return ["08", "53", "57"].contains(String(state.prefix(2)))
    }

    static func reason(_ error: any Error) -> String {
        guard let error = error as? PSQLError else { return "\(error)" }
        if let message = error.serverInfo?[.message] { return message }
        if let underlying = error.underlying { return "\(underlying)" }
        return "\(error.code)"
    }
}
