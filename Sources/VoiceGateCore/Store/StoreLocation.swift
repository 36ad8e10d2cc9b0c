import Foundation
import Logging
import NIOPosix
import SQLiteKit

/// `STORE_URL`: where keys, usage, history and voices live: an SQLite file of this gateway's own (the default), or a
/// PostgreSQL database that several gateways share.
public enum StoreLocation: Sendable, Equatable {
    case sqlite(path: String)
    /// The URL as given (with its password); `description` hides the password.
    case postgres(url: String)

    public static let defaultFileName = "voicegate.db"

    public static func parse(_ url: String?, dataDir: String) throws -> StoreLocation {
        guard let url, !url.isEmpty else { return .sqlite(path: GatewayConfig.absolute(dataDir) + "/" + defaultFileName) }
        if url.hasPrefix("sqlite://") {
            let path = String(url.dropFirst("sqlite://".count))
            guard !path.isEmpty else { throw ConfigError("STORE_URL sqlite:// needs a file path, e.g. sqlite:///var/lib/voicegate/voicegate.db") }
            return .sqlite(path: GatewayConfig.absolute(path))
        }
        if url.hasPrefix("postgres://") || url.hasPrefix("postgresql://") {
            _ = try PostgresURL(url)
            return .postgres(url: url)
        }
        let scheme = url.split(separator: ":", maxSplits: 1).first.map(String.init) ?? url
        throw ConfigError("STORE_URL scheme \(scheme) is not supported (sqlite://PATH or postgres://USER:PASSWORD@HOST:PORT/DB)")
    }

    private static func connect(_ path: String, logger: Logger) async throws -> SQLiteConnection {
        try await SQLiteConnection.open(storage: .file(path: path), threadPool: .singleton, logger: logger,
                                        on: MultiThreadedEventLoopGroup.singleton.any())
    }

    /// `sqlite` or `postgresql`, for `/health`.
    public var kind: String {
        switch self {
        case .sqlite: return "sqlite"
        case .postgres: return "postgresql"
        }
    }

    public var description: String {
        switch self {
        case .sqlite(let path): return "sqlite://\(path)"
        case .postgres(let url): return (try? PostgresURL(url).redacted) ?? "postgres://"
        }
    }

    /// Opens (creating and migrating) the store.
    public func open(logger: Logger) async throws -> any GatewayStore {
        switch self {
        case .sqlite(let path):
            let folder = (path as NSString).deletingLastPathComponent
            try? FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
            let connections: [SQLiteConnection]
            do {
                connections = [try await Self.connect(path, logger: logger), try await Self.connect(path, logger: logger)]
            } catch {
                throw StoreError.unavailable("cannot open the store \(path): \(error)")
            }
            let close: @Sendable () async throws -> Void = { for c in connections { try? await c.close() } }
            do {
                let (reader, writer) = (connections[0].sql(queryLogLevel: nil), connections[1].sql(queryLogLevel: nil))
                // WAL: readers (the CLI, other processes) never block the writer; NORMAL sync keeps every
                // committed transaction through a crash of the process (only power loss can take the last ones).
                for c in [reader, writer] {
                    try await c.raw("PRAGMA journal_mode=WAL").run()
                    try await c.raw("PRAGMA synchronous=NORMAL").run()
                    // Another process's write (the CLI, a second gateway on the file) is waited for, not an error.
                    try await c.raw("PRAGMA busy_timeout=5000").run()
                    // 512 KiB of pages each instead of SQLite's 2 MiB: writes append at the end of the history and
                    // prune its start, reads are small; the file's pages stay in the kernel's cache either way.
                    try await c.raw("PRAGMA cache_size=-512").run()
                }
                let store = SQLGatewayStore(backend: SQLiteBackend(reader: reader, writer: writer, onClose: close))
                try await store.migrate()
                chmod(path, 0o600)
                return store
            } catch {
                try? await close()
                throw error as? StoreError ?? StoreError.unavailable("cannot prepare the store \(path): \(error)")
            }
        case .postgres(let url):
            let location = try PostgresURL(url)
            try await location.check(logger: logger)
            let backend = PostgresBackend(configuration: location.client, logger: logger)
            let store = SQLGatewayStore(backend: backend)
            do {
                try await store.migrate()
            } catch {
                try? await backend.close()
                throw error as? StoreError ?? StoreError.unavailable("cannot prepare the store \(location.redacted): \(PostgresURL.reason(error))")
            }
            return store
        }
    }
}
