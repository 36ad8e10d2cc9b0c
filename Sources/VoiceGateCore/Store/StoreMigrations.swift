import Foundation
import SQLKit

/// Versioned schema changes, applied in order at start and recorded in `schema_migrations`.
/// Written with SQLKit's builders and types that SQLite and PostgreSQL both accept; never edit a released one.
enum StoreMigrations {
    struct Migration: Sendable {
        let version: Int
        let name: String
        let apply: @Sendable (any SQLDatabase) async throws -> Void
    }

    static let double = SQLDataType.custom(SQLRaw("DOUBLE PRECISION"))
    static let boolean = SQLDataType.custom(SQLRaw("BOOLEAN"))

    static let all: [Migration] = [
        Migration(version: 1, name: "keys, usage and history") { db in
            try await db.create(table: "api_keys").ifNotExists()
                .column("name", type: .text, .primaryKey(autoIncrement: false))
                .column("role", type: .text, .notNull)
                .column("key_hash", type: .text, .notNull, .unique)
                .column("enabled", type: boolean, .notNull)
                .column("rpm", type: .bigint)
                .column("chars_per_day", type: .bigint)
                .column("concurrent", type: .bigint)
                .column("created_at", type: .bigint, .notNull)
                .column("last_used_at", type: .bigint)
                .run()
            try await db.create(table: "key_usage").ifNotExists()
                .column("day", type: .text, .notNull)
                .column("key_name", type: .text, .notNull)
                .column("requests", type: .bigint, .notNull)
                .column("characters", type: .bigint, .notNull)
                .column("errors", type: .bigint, .notNull)
                .primaryKey(["day", "key_name"])
                .run()
            try await db.create(table: "synthesis_history").ifNotExists()
                .column("id", type: .bigint, .primaryKey(autoIncrement: true))
                .column("time_ms", type: .bigint, .notNull)
                .column("request_id", type: .text, .notNull)
                .column("key_name", type: .text, .notNull)
                .column("client", type: .text, .notNull)
                .column("engine", type: .text, .notNull)
                .column("language", type: .text)
                .column("text_length", type: .bigint, .notNull)
                .column("text_hash", type: .text)
                .column("text", type: .text)
                .column("reference_hash", type: .text)
                .column("status", type: .bigint, .notNull)
                .column("error_code", type: .text)
                .column("queue_wait", type: double)
                .column("time_to_first_byte", type: double)
                .column("upstream_time", type: double)
                .column("audio_seconds", type: double)
                .column("bytes_sent", type: .bigint, .notNull)
                .run()
            // SQLKit's index builder has no IF NOT EXISTS; this spelling is the same in SQLite and PostgreSQL.
            try await db.raw("CREATE INDEX IF NOT EXISTS synthesis_history_time ON synthesis_history (time_ms)").run()
            try await db.raw("CREATE INDEX IF NOT EXISTS synthesis_history_key ON synthesis_history (key_name, id)").run()
        },
        Migration(version: 2, name: "saved voices; model, voice and format in the history") { db in
            try await db.create(table: "voices").ifNotExists()
                .column("name", type: .text, .primaryKey(autoIncrement: false))
                .column("owner", type: .text, .notNull)
                .column("shared", type: boolean, .notNull)
                .column("file_name", type: .text, .notNull)
                .column("format", type: .text, .notNull)
                .column("duration", type: double, .notNull)
                .column("sample_rate", type: .bigint, .notNull)
                .column("channels", type: .bigint, .notNull)
                .column("prompt_text", type: .text, .notNull)
                .column("prompt_language", type: .text, .notNull)
                .column("description", type: .text, .notNull)
                .column("created_at", type: .bigint, .notNull)
                .run()
            try await db.raw("CREATE INDEX IF NOT EXISTS voices_file ON voices (file_name)").run()
            for column in ["model", "voice", "response_format"] {
                try await addColumnIfMissing(db, table: "synthesis_history", column: column, type: .text)
            }
        },
        Migration(version: 3, name: "voices' model weights; the worker in the history") { db in
            for column in ["gpt_weights", "sovits_weights"] {
                try await addColumnIfMissing(db, table: "voices", column: column, type: .text)
            }
            try await addColumnIfMissing(db, table: "synthesis_history", column: "worker", type: .text)
        },
        Migration(version: 4, name: "the gateway in the history; requests per second of each key; the gateways") { db in
            try await addColumnIfMissing(db, table: "synthesis_history", column: "gateway", type: .text)
            // A key's admitted requests by second, for a requests-per-minute limit that several gateways share.
            try await db.create(table: "key_rate").ifNotExists()
                .column("key_name", type: .text, .notNull)
                .column("second", type: .bigint, .notNull)
                .column("requests", type: .bigint, .notNull)
                .primaryKey(["key_name", "second"])
                .run()
            // Each gateway's heartbeat: who shares the store, since when, how busy.
            try await db.create(table: "gateways").ifNotExists()
                .column("name", type: .text, .primaryKey(autoIncrement: false))
                .column("address", type: .text, .notNull)
                .column("version", type: .text, .notNull)
                .column("started_at", type: .bigint, .notNull)
                .column("seen_at", type: .bigint, .notNull)
                .column("in_flight", type: .bigint, .notNull)
                .column("waiting", type: .bigint, .notNull)
                .run()
        },
        Migration(version: 5, name: "the workers' places, shared by the gateways") { db in
            try await db.create(table: "worker_leases").ifNotExists()
                .column("worker", type: .text, .notNull)
                .column("place", type: .bigint, .notNull)
                .column("gateway", type: .text, .notNull)
                .column("request_id", type: .text, .notNull)
                .column("key_name", type: .text, .notNull)
                .column("expires_at", type: .bigint, .notNull)
                .primaryKey(["worker", "place"])
                .run()
            // What every gateway must agree on about a worker: the weights it has loaded, whether it is drained.
            try await db.create(table: "worker_state").ifNotExists()
                .column("worker", type: .text, .primaryKey(autoIncrement: false))
                .column("gpt_weights", type: .text)
                .column("sovits_weights", type: .text)
                .column("draining", type: boolean, .notNull)
                .run()
        },
        Migration(version: 6, name: "long-form and batch jobs and their items") { db in
            try await db.create(table: "jobs").ifNotExists()
                .column("id", type: .text, .primaryKey(autoIncrement: false))
                .column("key_name", type: .text, .notNull)
                .column("voice", type: .text, .notNull)
                .column("status", type: .text, .notNull)
                .column("subtitles", type: boolean, .notNull)
                .column("settings", type: .text, .notNull)
                .column("total", type: .bigint, .notNull)
                .column("created_at", type: .bigint, .notNull)
                .column("finished_at", type: .bigint)
                .column("reason", type: .text)
                // The gateway running it and until when its lease holds.
                .column("runner", type: .text)
                .column("runner_expires", type: .bigint)
                .run()
            try await db.raw("CREATE INDEX IF NOT EXISTS jobs_open ON jobs (status, created_at)").run()
            try await db.raw("CREATE INDEX IF NOT EXISTS jobs_key ON jobs (key_name, created_at)").run()
            try await db.create(table: "job_items").ifNotExists()
                .column("job_id", type: .text, .notNull)
                .column("idx", type: .bigint, .notNull)
                .column("client_id", type: .text)
                .column("text", type: .text, .notNull)
                .column("cue_start", type: .bigint)
                .column("cue_end", type: .bigint)
                .column("status", type: .text, .notNull)
                .column("duration_ms", type: .bigint)
                .column("file_name", type: .text)
                .column("error", type: .text)
                .primaryKey(["job_id", "idx"])
                .run()
        },
    ]

    /// `ADD COLUMN IF NOT EXISTS` is PostgreSQL's alone: look first, and after a failed add (another process added it
    /// meanwhile) look again.
    static func addColumnIfMissing(_ db: any SQLDatabase, table: String, column: String, type: SQLDataType) async throws {
        func exists() async -> Bool {
            (try? await db.select().column(SQLIdentifier(column)).from(table).limit(0).all()) != nil
        }
        guard await !exists() else { return }
        do {
            try await db.alter(table: table).column(column, type: type).run()
        } catch {
            guard await exists() else { throw error }
        }
    }

    /// Applies what this database has not seen yet. Safe when several processes start at once: each step is
    /// idempotent and the version row is written with ON CONFLICT DO NOTHING.
    static func migrate(_ db: any SQLDatabase) async throws {
        try await db.create(table: "schema_migrations").ifNotExists()
            .column("version", type: .bigint, .primaryKey(autoIncrement: false))
            .column("name", type: .text, .notNull)
            .column("applied_at", type: .bigint, .notNull)
            .run()
        let applied = Set(try await db.select().column("version").from("schema_migrations").all()
            .map { try $0.decode(column: "version", as: Int.self) })
        if let newest = applied.max(), newest > (all.map(\.version).max() ?? 0) {
            throw StoreError.unsupported("the store was migrated by a newer VoiceGate (schema version \(newest)); upgrade this one")
        }
        for migration in all where !applied.contains(migration.version) {
            try await migration.apply(db)
            try await db.insert(into: "schema_migrations").columns("version", "name", "applied_at")
                .values(SQLBind(migration.version), SQLBind(migration.name), SQLBind(Int64(Date().timeIntervalSince1970 * 1000)))
                .ignoringConflicts(with: ["version"])
                .run()
        }
    }
}
