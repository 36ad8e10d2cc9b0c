import Foundation
import SQLKit

/// The store on any SQLKit database. Queries use only what SQLite and PostgreSQL share (upserts with
/// `ON CONFLICT`, `RETURNING`, integer milliseconds for times); what differs between the two (connections,
/// transactions, locks) is the backend's.
final class SQLGatewayStore: GatewayStore, VoiceStore {
    let backend: any SQLStoreBackend
    /// Reads.
    var db: any SQLDatabase { backend.db }

    init(backend: any SQLStoreBackend) {
        self.backend = backend
    }

    var limitLedger: (any LimitLedger)? { backend.isShared ? self : nil }

    func migrate() async throws {
        try await backend.exclusively { try await StoreMigrations.migrate($0) }
    }

    // MARK: keys

    func keys() async throws -> [KeyRecord] {
        try await db.select().column("*").from("api_keys").orderBy("name").all().map(Self.key)
    }

    func key(named name: String) async throws -> KeyRecord? {
        try await db.select().column("*").from("api_keys").where("name", .equal, name).first().map(Self.key)
    }

    func key(hash: String) async throws -> KeyRecord? {
        try await db.select().column("*").from("api_keys").where("key_hash", .equal, hash).first().map(Self.key)
    }

    func insertKey(_ key: KeyRecord) async throws {
        let inserted = try await backend.write { db in try await db.insert(into: "api_keys")
            .columns("name", "role", "key_hash", "enabled", "rpm", "chars_per_day", "concurrent", "created_at", "last_used_at")
            .values(SQLBind(key.name), SQLBind(key.role.rawValue), SQLBind(key.keyHash), SQLBind(key.enabled),
                    SQLBind(key.limits.requestsPerMinute), SQLBind(key.limits.charactersPerDay), SQLBind(key.limits.concurrent),
                    SQLBind(Self.millis(key.createdAt)), SQLBind(key.lastUsedAt.map(Self.millis)))
            .ignoringConflicts()
            .returning("name")
            .all() }
        if inserted.isEmpty { throw StoreError.exists("a key named \(key.name) (or with the same secret)") }
    }

    func updateKey(_ key: KeyRecord) async throws -> Bool {
        let rows = try await backend.write { db in try await db.update("api_keys")
            .set("role", to: key.role.rawValue).set("key_hash", to: key.keyHash).set("enabled", to: key.enabled)
            .set("rpm", to: SQLBind(key.limits.requestsPerMinute)).set("chars_per_day", to: SQLBind(key.limits.charactersPerDay))
            .set("concurrent", to: SQLBind(key.limits.concurrent))
            .where("name", .equal, key.name)
            .returning("name")
            .all() }
        return !rows.isEmpty
    }

    func deleteKey(named name: String) async throws -> Bool {
        try await backend.write { db in
            !(try await db.delete(from: "api_keys").where("name", .equal, name).returning("name").all()).isEmpty
        }
    }

    func markUsed(_ lastUsed: [String: Date]) async throws {
        try await backend.write { try await Self.markUsed(lastUsed, in: $0) }
    }

    private static func markUsed(_ lastUsed: [String: Date], in db: any SQLDatabase) async throws {
        for (name, date) in lastUsed.sorted(by: { $0.key < $1.key }) {
            try await db.update("api_keys").set("last_used_at", to: Self.millis(date)).where("name", .equal, name).run()
        }
    }

    /// One transaction a round: the database pays for a commit (and SQLite for the WAL checkpoints that follow),
    /// not for a row.
    func write(_ batch: StoreBatch) async throws {
        guard !batch.isEmpty else { return }
        try await backend.transaction { db in
            try await Self.appendHistory(batch.history, in: db)
            for (day, usage) in batch.usage.sorted(by: { $0.key < $1.key }) { try await Self.addUsage(day: day, usage, in: db) }
            try await Self.markUsed(batch.lastUsed, in: db)
        }
    }

    // MARK: usage

    /// One upsert statement for all keys: each row adds its increments to what is there.
    func addUsage(day: String, _ usage: [String: KeyUsage]) async throws {
        try await backend.write { try await Self.addUsage(day: day, usage, in: $0) }
    }

    private static func addUsage(day: String, _ usage: [String: KeyUsage], in db: any SQLDatabase) async throws {
        let rows = usage.filter { !$0.value.isZero }.sorted { $0.key < $1.key }
        guard !rows.isEmpty else { return }
        let insert = db.insert(into: "key_usage").columns("day", "key_name", "requests", "characters", "errors")
        for (name, u) in rows {
            insert.values(SQLBind(day), SQLBind(name), SQLBind(u.requests), SQLBind(u.characters), SQLBind(u.errors))
        }
        try await insert.onConflict(with: ["day", "key_name"]) { update in
            for column in ["requests", "characters", "errors"] {
                update.set(column, to: SQLBinaryExpression(SQLColumn(column, table: "key_usage"), .add, SQLExcludedColumn(column)))
            }
            return update
        }.run()
    }

    func usage(day: String) async throws -> [String: KeyUsage] {
        var out: [String: KeyUsage] = [:]
        for row in try await db.select().column("*").from("key_usage").where("day", .equal, day).all() {
            out[try row.decode(column: "key_name", as: String.self)] = KeyUsage(
                requests: try row.decode(column: "requests", as: Int.self),
                characters: try row.decode(column: "characters", as: Int.self),
                errors: try row.decode(column: "errors", as: Int.self))
        }
        return out
    }

    // MARK: history

    static let historyColumns = ["time_ms", "request_id", "key_name", "client", "engine", "language", "text_length", "text_hash", "text",
                                 "reference_hash", "status", "error_code", "queue_wait", "time_to_first_byte", "upstream_time",
                                 "audio_seconds", "bytes_sent", "model", "voice", "response_format", "worker", "gateway"]

    func appendHistory(_ records: [HistoryRecord]) async throws {
        guard !records.isEmpty else { return }
        try await backend.write { try await Self.appendHistory(records, in: $0) }
    }

    private static func appendHistory(_ records: [HistoryRecord], in db: any SQLDatabase) async throws {
        guard !records.isEmpty else { return }
        // SQLite allows 32766 bound values per statement (PostgreSQL 65535): 22 columns, so up to ~1500 rows a statement.
        for batch in stride(from: 0, to: records.count, by: 500).map({ records[$0..<min($0 + 500, records.count)] }) {
            let insert = db.insert(into: "synthesis_history").columns(historyColumns)
            for r in batch {
                let values: [any Encodable & Sendable] = [
                    millis(r.time), r.requestID, r.keyName, r.client, r.engine, r.language, r.textLength, r.textHash, r.text,
                    r.referenceHash, r.status, r.errorCode, r.queueWait, r.timeToFirstByte, r.upstreamTime, r.audioSeconds, r.bytesSent,
                    r.model, r.voice, r.format, r.worker, r.gateway,
                ]
                insert.values(values.map { SQLBind($0) })
            }
            try await insert.run()
        }
    }

    func history(_ query: HistoryQuery) async throws -> [HistoryRecord] {
        let select = db.select().column("*").from("synthesis_history")
        if let key = query.key { select.where("key_name", .equal, key) }
        if let status = query.status { select.where("status", .equal, status) }
        if let worker = query.worker { select.where("worker", .equal, worker) }
        if let gateway = query.gateway { select.where("gateway", .equal, gateway) }
        if let since = query.since { select.where("time_ms", .greaterThanOrEqual, Self.millis(since)) }
        if let until = query.until { select.where("time_ms", .lessThan, Self.millis(until)) }
        if let before = query.before { select.where("id", .lessThan, before) }
        return try await select.orderBy("id", .descending).limit(query.limit).all().map(Self.history)
    }

    /// In batches, so that pruning a busy gateway's hour holds neither every id in memory nor the write lock for
    /// long. The cap and the age are two deletes, each walking its own index from the oldest row: one
    /// `WHERE time_ms < ? OR id <= ?` can use neither index, and its last batch (the one that finds fewer than a
    /// batch) read the whole table, a million-row history every minute under the write lock.
    func pruneHistory(before date: Date, keepingAtMost maxRows: Int) async throws -> Int {
        let newest = try await db.raw("SELECT COALESCE(MAX(id), 0) AS newest FROM synthesis_history").first()?
            .decode(column: "newest", as: Int64.self) ?? 0
        let beyondTheCap = try await deleteHistory(oldestBy: "id", below: newest - Int64(maxRows) + 1)
        let tooOld = try await deleteHistory(oldestBy: "time_ms", below: Self.millis(date))
        return beyondTheCap + tooOld
    }

    /// The rows whose `column` (indexed) is below `bound`, oldest first, one batch per write.
    private func deleteHistory(oldestBy column: String, below bound: Int64) async throws -> Int {
        let batchSize = 5000
        var removed = 0
        while true {
            let count = try await backend.write { db in
                try await db.raw("""
                    DELETE FROM synthesis_history WHERE id IN (SELECT id FROM synthesis_history \
                    WHERE \(ident: column) < \(bind: bound) ORDER BY \(ident: column) LIMIT \(literal: batchSize)) RETURNING id
                    """).all().count
            }
            removed += count
            if count < batchSize { return removed }
        }
    }

    func close() async throws { try await backend.close() }

    // MARK: rows

    static func millis(_ date: Date) -> Int64 { Int64((date.timeIntervalSince1970 * 1000).rounded()) }
    static func date(_ millis: Int64) -> Date { Date(timeIntervalSince1970: Double(millis) / 1000) }

    private static func key(_ row: any SQLRow) throws -> KeyRecord {
        let role = try row.decode(column: "role", as: String.self)
        return KeyRecord(
            name: try row.decode(column: "name", as: String.self),
            role: KeyRecord.Role(rawValue: role) ?? .client,
            keyHash: try row.decode(column: "key_hash", as: String.self),
            limits: .init(requestsPerMinute: try row.decode(column: "rpm", as: Int?.self),
                          charactersPerDay: try row.decode(column: "chars_per_day", as: Int?.self),
                          concurrent: try row.decode(column: "concurrent", as: Int?.self)),
            enabled: try row.decode(column: "enabled", as: Bool.self),
            createdAt: date(try row.decode(column: "created_at", as: Int64.self)),
            lastUsedAt: try row.decode(column: "last_used_at", as: Int64?.self).map(date))
    }

    private static func history(_ row: any SQLRow) throws -> HistoryRecord {
        var record = HistoryRecord(
            time: date(try row.decode(column: "time_ms", as: Int64.self)),
            requestID: try row.decode(column: "request_id", as: String.self),
            keyName: try row.decode(column: "key_name", as: String.self),
            client: try row.decode(column: "client", as: String.self),
            engine: try row.decode(column: "engine", as: String.self),
            language: try row.decode(column: "language", as: String?.self),
            textLength: try row.decode(column: "text_length", as: Int.self),
            textHash: try row.decode(column: "text_hash", as: String?.self),
            text: try row.decode(column: "text", as: String?.self),
            referenceHash: try row.decode(column: "reference_hash", as: String?.self),
            status: try row.decode(column: "status", as: Int.self),
            errorCode: try row.decode(column: "error_code", as: String?.self),
            queueWait: try row.decode(column: "queue_wait", as: Double?.self),
            timeToFirstByte: try row.decode(column: "time_to_first_byte", as: Double?.self),
            upstreamTime: try row.decode(column: "upstream_time", as: Double?.self),
            audioSeconds: try row.decode(column: "audio_seconds", as: Double?.self),
            bytesSent: try row.decode(column: "bytes_sent", as: Int.self))
        record.id = try row.decode(column: "id", as: Int64.self)
        record.model = try row.decode(column: "model", as: String?.self)
        record.voice = try row.decode(column: "voice", as: String?.self)
        record.format = try row.decode(column: "response_format", as: String?.self)
        record.worker = try row.decode(column: "worker", as: String?.self)
        record.gateway = try row.decode(column: "gateway", as: String?.self)
        return record
    }
}
