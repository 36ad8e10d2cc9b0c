import Foundation
import SQLKit

/// Limits shared by every gateway on a PostgreSQL store.
extension SQLGatewayStore: LimitLedger {
    /// One transaction of four statements: the key's row locked `FOR UPDATE` (every gateway's admissions of this key
    /// take turns, so two never both see the last free place), its buckets older than a minute dropped, the minute
    /// summed, and the request added to this second's bucket. The lock is a statement of its own: under READ
    /// COMMITTED each statement sees what committed before it began, so the sum that follows sees the turn before.
    func countRequest(key: String, limit: Int, now: Date) async throws -> LimitDecision {
        let second = Int64(now.timeIntervalSince1970.rounded(.down))
        return try await backend.transaction { db in
            _ = try await db.select().column("name").from("api_keys").where("name", .equal, key).for(.update).all()
            try await db.delete(from: "key_rate").where("key_name", .equal, key).where("second", .lessThanOrEqual, second - 60).run()
            let row = try await db.raw("""
                SELECT CAST(COALESCE(SUM(requests), 0) AS BIGINT) AS used, MIN(second) AS oldest FROM key_rate WHERE key_name = \(bind: key)
                """).first()
            let used = try row?.decode(column: "used", as: Int.self) ?? 0
            if used >= limit {
                let oldest = try row?.decode(column: "oldest", as: Int64?.self) ?? second
                return .refused(used: used, retryAfter: Int(max(1, oldest + 60 - second)))
            }
            try await db.raw("""
                INSERT INTO key_rate (key_name, second, requests) VALUES (\(bind: key), \(bind: second), 1)
                ON CONFLICT (key_name, second) DO UPDATE SET requests = key_rate.requests + 1
                """).run()
            return .admitted(used: used + 1)
        }
    }

    /// One statement: the upsert adds the characters only where the sum stays within the limit (PostgreSQL
    /// re-checks the condition on the row it locked, so concurrent charges from several gateways queue on the row
    /// and none goes over). No row back means refused.
    func chargeCharacters(key: String, day: String, characters: Int, limit: Int) async throws -> LimitDecision {
        if characters <= limit {
            let admitted = try await backend.write { db in
                try await db.raw("""
                    INSERT INTO key_usage (day, key_name, requests, characters, errors)
                    VALUES (\(bind: day), \(bind: key), 0, \(bind: characters), 0)
                    ON CONFLICT (day, key_name) DO UPDATE SET characters = key_usage.characters + excluded.characters
                    WHERE key_usage.characters + excluded.characters <= \(bind: limit)
                    RETURNING characters
                    """).first()
            }
            if let admitted { return .admitted(used: try admitted.decode(column: "characters", as: Int.self)) }
        }
        let used = try await usage(day: day)[key]?.characters ?? 0
        return .refused(used: used, retryAfter: 0)
    }
}
