import Foundation
import SQLKit

extension SQLGatewayStore: JobStore {
    static let jobColumns = ["id", "key_name", "voice", "status", "subtitles", "settings", "total", "created_at", "finished_at", "reason",
                             "runner", "runner_expires"]
    static let itemColumns = ["job_id", "idx", "client_id", "text", "cue_start", "cue_end", "status", "duration_ms", "file_name", "error"]

    func insertJob(_ job: JobRecord, items: [JobItemRecord]) async throws {
        let settings = String(decoding: try JSONEncoder().encode(job.settings), as: UTF8.self)
        let jobValues: [any Encodable & Sendable] = [job.id, job.key, job.voice, job.status.rawValue, job.subtitles, settings, job.total,
                                                     Self.millis(job.createdAt), job.finishedAt.map(Self.millis), job.reason, job.runner,
                                                     Int64?.none]
        let rows = items.map { item -> [SQLBind] in
            let values: [any Encodable & Sendable] = [job.id, item.index, item.clientID.map(Self.storable), Self.storable(item.text),
                                                      item.cue?.start, item.cue?.end,
                                                      item.status.rawValue, item.durationMs, item.fileName, item.error]
            return values.map { SQLBind($0) }
        }
        try await backend.transaction { db in
            let inserted = try await db.insert(into: "jobs").columns(Self.jobColumns).values(jobValues.map { SQLBind($0) })
                .ignoringConflicts().returning("id").all()
            guard !inserted.isEmpty else { throw StoreError.exists("a job with the id \(job.id)") }
            // A few hundred rows a statement: every dialect's limit on bound values is far above that.
            for batch in stride(from: 0, to: rows.count, by: 200) {
                let insert = db.insert(into: "job_items").columns(Self.itemColumns)
                for row in rows[batch..<min(rows.count, batch + 200)] { insert.values(row) }
                try await insert.run()
            }
        }
    }

    func job(id: String) async throws -> JobRecord? {
        try await db.select().column("*").from("jobs").where("id", .equal, id).first().map(Self.job)
    }

    func jobs(key: String?, status: JobRecord.Status?, limit: Int) async throws -> [JobRecord] {
        let query = db.select().column("*").from("jobs")
        if let key { query.where("key_name", .equal, key) }
        if let status { query.where("status", .equal, status.rawValue) }
        return try await query.orderBy("created_at", .descending).orderBy("id", .descending).limit(max(1, limit)).all().map(Self.job)
    }

    func items(ofJob id: String) async throws -> [JobItemRecord] {
        try await db.select().column("*").from("job_items").where("job_id", .equal, id).orderBy("idx").all().map(Self.item)
    }

    func itemCounts(ofJobs ids: [String]) async throws -> [String: JobCounts] {
        guard !ids.isEmpty else { return [:] }
        // PostgreSQL sums a bigint as numeric: cast back, for one decoding on both.
        let rows = try await db.select().column("job_id").column("status").column(SQLRaw("COUNT(*)"), as: "n")
            .column(SQLRaw("CAST(SUM(duration_ms) AS BIGINT)"), as: "ms")
            .from("job_items").where("job_id", .in, ids).where("status", .in, ["done", "failed"]).groupBy("job_id").groupBy("status").all()
        var counts: [String: JobCounts] = [:]
        for row in rows {
            let id = try row.decode(column: "job_id", as: String.self)
            let n = try row.decode(column: "n", as: Int.self)
            if try row.decode(column: "status", as: String.self) == "done" {
                counts[id, default: JobCounts()].done = n
                counts[id, default: JobCounts()].audioMs = try row.decode(column: "ms", as: Int?.self) ?? 0
            } else {
                counts[id, default: JobCounts()].failed = n
            }
        }
        return counts
    }

    func updateItem(job id: String, _ item: JobItemRecord) async throws -> Bool {
        try await backend.write { db in
            !(try await db.update("job_items")
                .set("text", to: Self.storable(item.text)).set("status", to: item.status.rawValue).set("duration_ms", to: item.durationMs)
                .set("file_name", to: item.fileName).set("error", to: item.error)
                .where("job_id", .equal, id).where("idx", .equal, item.index).returning("idx").all()).isEmpty
        }
    }

    func setJobStatus(_ id: String, _ status: JobRecord.Status, reason: String?, finished: Date?, from: [JobRecord.Status]?) async throws -> Bool {
        try await backend.write { db in
            let update = db.update("jobs").set("status", to: status.rawValue).set("reason", to: reason)
                .set("finished_at", to: finished.map(Self.millis)).where("id", .equal, id)
            if let from { update.where("status", .in, from.map(\.rawValue)) }
            return !(try await update.returning("id").all()).isEmpty
        }
    }

    func claimJob(gateway: String, ttl: TimeInterval, now: Date) async throws -> JobRecord? {
        let (nowMillis, until) = (Self.millis(now), Self.millis(now.addingTimeInterval(ttl)))
        // PostgreSQL: gateways claiming at once skip each other's row instead of waiting on it. SQLite has one writer
        // at a time; there the outer condition alone keeps two claims from taking one job.
        let skipLocked: SQLQueryString = backend.isShared ? " FOR UPDATE SKIP LOCKED" : ""
        // Most polls find nothing: a read first takes no write lock (nor, on SQLite, a sync to disk).
        let candidate = try await db.raw("""
            SELECT id FROM jobs WHERE status IN ('queued', 'running', 'paused')
                AND (runner IS NULL OR runner_expires < \(bind: nowMillis)) LIMIT 1
            """).first()
        guard candidate != nil else { return nil }
        return try await backend.write { db in
            try await db.raw("""
                UPDATE jobs SET runner = \(bind: gateway), runner_expires = \(bind: until),
                    status = CASE WHEN status = 'queued' THEN 'running' ELSE status END
                WHERE id = (SELECT id FROM jobs WHERE status IN ('queued', 'running', 'paused')
                                AND (runner IS NULL OR runner_expires < \(bind: nowMillis))
                            ORDER BY created_at, id LIMIT 1\(skipLocked))
                  AND (runner IS NULL OR runner_expires < \(bind: nowMillis))
                RETURNING *
                """).first().map(Self.job)
        }
    }

    func renewJobs(_ ids: [String], gateway: String, ttl: TimeInterval, now: Date) async throws -> [String] {
        guard !ids.isEmpty else { return [] }
        return try await backend.write { db in
            try await db.update("jobs").set("runner_expires", to: Self.millis(now.addingTimeInterval(ttl)))
                .where("id", .in, ids).where("runner", .equal, gateway).where("status", .in, ["queued", "running", "paused"])
                .returning("id").all().map { try $0.decode(column: "id", as: String.self) }
        }
    }

    func releaseJob(_ id: String, gateway: String) async throws {
        try await backend.write { db in
            try await db.update("jobs").set("runner", to: String?.none).set("runner_expires", to: Int64?.none)
                .where("id", .equal, id).where("runner", .equal, gateway).run()
        }
    }

    func deleteJob(_ id: String) async throws -> Bool {
        try await backend.transaction { db in
            try await db.delete(from: "job_items").where("job_id", .equal, id).run()
            return !(try await db.delete(from: "jobs").where("id", .equal, id).returning("id").all()).isEmpty
        }
    }

    func pruneJobs(finishedBefore date: Date) async throws -> [String] {
        let cutoff = Self.millis(date)
        return try await backend.transaction { db in
            let ids = try await db.delete(from: "jobs").where("finished_at", .lessThan, cutoff).returning("id").all()
                .map { try $0.decode(column: "id", as: String.self) }
            if !ids.isEmpty { try await db.delete(from: "job_items").where("job_id", .in, ids).run() }
            return ids
        }
    }

    /// PostgreSQL's text cannot hold NUL: it is kept as U+FFFD on both stores, so they agree.
    static func storable(_ text: String) -> String {
        text.contains("\u{0}") ? text.replacingOccurrences(of: "\u{0}", with: "\u{FFFD}") : text
    }

    private static func job(_ row: any SQLRow) throws -> JobRecord {
        let settings = try row.decode(column: "settings", as: String.self)
        return JobRecord(
            id: try row.decode(column: "id", as: String.self),
            key: try row.decode(column: "key_name", as: String.self),
            voice: try row.decode(column: "voice", as: String.self),
            status: JobRecord.Status(rawValue: try row.decode(column: "status", as: String.self)) ?? .failed,
            subtitles: try row.decode(column: "subtitles", as: Bool.self),
            settings: (try? JSONDecoder().decode(JobRecord.Settings.self, from: Data(settings.utf8))) ?? .init(),
            total: try row.decode(column: "total", as: Int.self),
            createdAt: date(try row.decode(column: "created_at", as: Int64.self)),
            finishedAt: try row.decode(column: "finished_at", as: Int64?.self).map(date),
            reason: try row.decode(column: "reason", as: String?.self),
            runner: try row.decode(column: "runner", as: String?.self))
    }

    private static func item(_ row: any SQLRow) throws -> JobItemRecord {
        let (start, end) = (try row.decode(column: "cue_start", as: Int?.self), try row.decode(column: "cue_end", as: Int?.self))
        let text = try row.decode(column: "text", as: String.self)
        return JobItemRecord(
            index: try row.decode(column: "idx", as: Int.self),
            clientID: try row.decode(column: "client_id", as: String?.self),
            text: text,
            cue: start.flatMap { s in end.map { SubtitleCue(start: s, end: $0, text: text) } },
            status: JobItemRecord.Status(rawValue: try row.decode(column: "status", as: String.self)) ?? .failed,
            durationMs: try row.decode(column: "duration_ms", as: Int?.self),
            fileName: try row.decode(column: "file_name", as: String?.self),
            error: try row.decode(column: "error", as: String?.self))
    }
}
