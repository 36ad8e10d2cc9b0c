import Foundation
import SQLKit

/// The store on any SQLKit database. Queries use only what SQLite and PostgreSQL share (upserts with
/// `ON CONFLICT`, integer milliseconds for times), so PostgresKit can run this same type.
final class SQLGatewayStore: GatewayStore, VoiceStore {
    /// Reads.
    let db: any SQLDatabase
    /// Every write goes to a connection of its own, one at a time: a round's transaction then holds only its own
    /// statements (on a shared SQLite connection another task's statement would join it, and COMMIT fails while one
    /// is active), and no two writes of this process wait for each other's lock on the thread pool.
    let writer: SQLGatewayStore?
    let writes = AsyncSerialGate()
    private let onClose: @Sendable () async throws -> Void

    /// With `writer`, writes go there; without, this instance runs everything on `db` itself.
    init(db: any SQLDatabase, writer: (any SQLDatabase)? = nil, onClose: @escaping @Sendable () async throws -> Void) {
        self.db = db
        self.writer = writer.map { SQLGatewayStore(db: $0) {} }
        self.onClose = onClose
    }

    func migrate() async throws {
        if let writer { return try await writes.run { try await writer.migrate() } }
        try await StoreMigrations.migrate(db)
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
        if let writer { return try await writes.run { try await writer.insertKey(key) } }
        let inserted = try await db.insert(into: "api_keys")
            .columns("name", "role", "key_hash", "enabled", "rpm", "chars_per_day", "concurrent", "created_at", "last_used_at")
            .values(SQLBind(key.name), SQLBind(key.role.rawValue), SQLBind(key.keyHash), SQLBind(key.enabled),
                    SQLBind(key.limits.requestsPerMinute), SQLBind(key.limits.charactersPerDay), SQLBind(key.limits.concurrent),
                    SQLBind(Self.millis(key.createdAt)), SQLBind(key.lastUsedAt.map(Self.millis)))
            .ignoringConflicts()
            .returning("name")
            .all()
        if inserted.isEmpty { throw StoreError.exists("a key named \(key.name) (or with the same secret)") }
    }

    func updateKey(_ key: KeyRecord) async throws -> Bool {
        if let writer { return try await writes.run { try await writer.updateKey(key) } }
        let rows = try await db.update("api_keys")
            .set("role", to: key.role.rawValue).set("key_hash", to: key.keyHash).set("enabled", to: key.enabled)
            .set("rpm", to: SQLBind(key.limits.requestsPerMinute)).set("chars_per_day", to: SQLBind(key.limits.charactersPerDay))
            .set("concurrent", to: SQLBind(key.limits.concurrent))
            .where("name", .equal, key.name)
            .returning("name")
            .all()
        return !rows.isEmpty
    }

    func deleteKey(named name: String) async throws -> Bool {
        if let writer { return try await writes.run { try await writer.deleteKey(named: name) } }
        return !(try await db.delete(from: "api_keys").where("name", .equal, name).returning("name").all()).isEmpty
    }

    func markUsed(_ lastUsed: [String: Date]) async throws {
        if let writer { return try await writes.run { try await writer.markUsed(lastUsed) } }
        for (name, date) in lastUsed.sorted(by: { $0.key < $1.key }) {
            try await db.update("api_keys").set("last_used_at", to: Self.millis(date)).where("name", .equal, name).run()
        }
    }

    /// One transaction a round, on the writer connection: SQLite pays for a commit (and the WAL checkpoints that
    /// follow), not for a row. Rounds come one at a time (`StoreSync`), so the writer has one transaction at most.
    func write(_ batch: StoreBatch) async throws {
        guard !batch.isEmpty else { return }
        if let writer { return try await writes.run { try await writer.write(batch) } }
        try await db.raw("BEGIN IMMEDIATE").run()
        do {
            try await appendHistory(batch.history)
            for (day, usage) in batch.usage.sorted(by: { $0.key < $1.key }) { try await addUsage(day: day, usage) }
            try await markUsed(batch.lastUsed)
            try await db.raw("COMMIT").run()
        } catch {
            try? await db.raw("ROLLBACK").run()
            throw error
        }
    }

    // MARK: usage

    /// One upsert statement for all keys: each row adds its increments to what is there.
    func addUsage(day: String, _ usage: [String: KeyUsage]) async throws {
        if let writer { return try await writes.run { try await writer.addUsage(day: day, usage) } }
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
                                 "audio_seconds", "bytes_sent", "model", "voice", "response_format", "worker"]

    func appendHistory(_ records: [HistoryRecord]) async throws {
        guard !records.isEmpty else { return }
        if let writer { return try await writes.run { try await writer.appendHistory(records) } }
        // SQLite allows 32766 bound values per statement: 21 columns, so up to ~1600 rows a statement.
        for batch in stride(from: 0, to: records.count, by: 500).map({ records[$0..<min($0 + 500, records.count)] }) {
            let insert = db.insert(into: "synthesis_history").columns(Self.historyColumns)
            for r in batch {
                let values: [any Encodable & Sendable] = [
                    Self.millis(r.time), r.requestID, r.keyName, r.client, r.engine, r.language, r.textLength, r.textHash, r.text,
                    r.referenceHash, r.status, r.errorCode, r.queueWait, r.timeToFirstByte, r.upstreamTime, r.audioSeconds, r.bytesSent,
                    r.model, r.voice, r.format, r.worker,
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
        if let since = query.since { select.where("time_ms", .greaterThanOrEqual, Self.millis(since)) }
        if let until = query.until { select.where("time_ms", .lessThan, Self.millis(until)) }
        if let before = query.before { select.where("id", .lessThan, before) }
        return try await select.orderBy("id", .descending).limit(query.limit).all().map(Self.history)
    }

    /// In batches of 5,000 by id, so that pruning a busy gateway's hour holds neither every id in memory nor the
    /// write lock for long.
    func pruneHistory(before date: Date, keepingAtMost maxRows: Int) async throws -> Int {
        let newest = try await db.raw("SELECT COALESCE(MAX(id), 0) AS newest FROM synthesis_history").first()?
            .decode(column: "newest", as: Int64.self) ?? 0
        let cut = newest - Int64(maxRows)
        var removed = 0
        while true {
            let batch = try await batchWrite { store in
                try await store.db.raw("""
                    DELETE FROM synthesis_history WHERE id IN (SELECT id FROM synthesis_history \
                    WHERE time_ms < \(bind: Self.millis(date)) OR id <= \(bind: cut) ORDER BY id LIMIT 5000) RETURNING id
                    """).all().count
            }
            removed += batch
            if batch < 5000 { return removed }
        }
    }

    /// One write on the writer connection when there is one (behind this process's other writes), else here.
    private func batchWrite<T: Sendable>(_ body: (SQLGatewayStore) async throws -> T) async throws -> T {
        guard let writer else { return try await body(self) }
        return try await writes.run { try await body(writer) }
    }

    func close() async throws { try await onClose() }

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
        return record
    }
}
