import Foundation
import Logging
import NIOPosix
import SQLiteKit

/// `STORE_URL`: where keys, usage and history live. Only `sqlite://PATH` exists so far.
public enum StoreLocation: Sendable, Equatable {
    case sqlite(path: String)

    public static let defaultFileName = "voicegate.db"

    public static func parse(_ url: String?, dataDir: String) throws -> StoreLocation {
        guard let url, !url.isEmpty else { return .sqlite(path: GatewayConfig.absolute(dataDir) + "/" + defaultFileName) }
        if url.hasPrefix("sqlite://") {
            let path = String(url.dropFirst("sqlite://".count))
            guard !path.isEmpty else { throw ConfigError("STORE_URL sqlite:// needs a file path, e.g. sqlite:///var/lib/voicegate/voicegate.db") }
            return .sqlite(path: GatewayConfig.absolute(path))
        }
        let scheme = url.split(separator: ":", maxSplits: 1).first.map(String.init) ?? url
        throw ConfigError("STORE_URL scheme \(scheme) is not supported yet (only sqlite://PATH)")
    }

    private static func connect(_ path: String, logger: Logger) async throws -> SQLiteConnection {
        try await SQLiteConnection.open(storage: .file(path: path), threadPool: .singleton, logger: logger,
                                        on: MultiThreadedEventLoopGroup.singleton.any())
    }

    public var description: String {
        switch self {
        case .sqlite(let path): return "sqlite://\(path)"
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
                let (db, writer) = (connections[0].sql(queryLogLevel: nil), connections[1].sql(queryLogLevel: nil))
                // WAL: readers (the CLI, other processes) never block the writer; NORMAL sync keeps every
                // committed transaction through a crash of the process (only power loss can take the last ones).
                for c in [db, writer] {
                    try await c.raw("PRAGMA journal_mode=WAL").run()
                    try await c.raw("PRAGMA synchronous=NORMAL").run()
                }
                let store = SQLGatewayStore(db: db, writer: writer, onClose: close)
                try await store.migrate()
                chmod(path, 0o600)
                return store
            } catch {
                try? await close()
                throw error as? StoreError ?? StoreError.unavailable("cannot prepare the store \(path): \(error)")
            }
        }
    }
}
