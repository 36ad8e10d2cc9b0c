import Foundation
import SQLKit

extension SQLGatewayStore {
    /// Writes this gateway's row (one upsert).
    func announce(_ g: GatewayPresence) async throws {
        let values: [any Encodable & Sendable] = [g.name, g.address, g.version, Self.millis(g.startedAt), Self.millis(g.seenAt), g.inFlight, g.waiting]
        let binds = values.map { SQLBind($0) }
        try await backend.write { db in
            try await db.insert(into: "gateways").columns("name", "address", "version", "started_at", "seen_at", "in_flight", "waiting")
                .values(binds)
                .onConflict(with: ["name"]) { update in
                    for column in ["address", "version", "started_at", "seen_at", "in_flight", "waiting"] {
                        update.set(excludedValueOf: column)
                    }
                    return update
                }
                .run()
        }
    }

    /// Every gateway heard from in the last day, by name. Older rows are removed on the way.
    func gateways() async throws -> [GatewayPresence] {
        let dayAgo = Self.millis(Date().addingTimeInterval(-86400))
        try await backend.write { db in try await db.delete(from: "gateways").where("seen_at", .lessThan, dayAgo).run() }
        return try await db.select().column("*").from("gateways").orderBy("name").all().map { row in
            GatewayPresence(name: try row.decode(column: "name", as: String.self), address: try row.decode(column: "address", as: String.self),
                            version: try row.decode(column: "version", as: String.self),
                            startedAt: Self.date(try row.decode(column: "started_at", as: Int64.self)),
                            seenAt: Self.date(try row.decode(column: "seen_at", as: Int64.self)),
                            inFlight: try row.decode(column: "in_flight", as: Int.self), waiting: try row.decode(column: "waiting", as: Int.self))
        }
    }

    /// A gateway that stops cleanly leaves the list at once.
    func leave(name: String) async throws {
        try await backend.write { db in try await db.delete(from: "gateways").where("name", .equal, name).run() }
    }
}
