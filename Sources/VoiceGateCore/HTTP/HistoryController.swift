import Foundation
import Hummingbird
import HummingbirdCore

/// `GET {prefix}/history`: newest first, paged by cursor. An admin sees every key's syntheses, a client key its own.
struct HistoryController {
    let store: any GatewayStore
    /// Writes what is pending first, so a synthesis that just finished is in the answer.
    let flush: @Sendable () async -> Void

    struct Item: Codable {
        let id: Int64
        let time: String
        let request_id: String
        let key: String
        let client: String
        let engine: String
        let language: String?
        let text_length: Int
        let text_sha256: String?
        let text: String?
        let reference_sha256: String?
        let status: Int
        let error: String?
        let queue_wait_ms: Double?
        let time_to_first_byte_ms: Double?
        let upstream_ms: Double?
        let audio_seconds: Double?
        let bytes_sent: Int
        let model: String?
        let voice: String?
        let response_format: String?
        let worker: String?
        let gateway: String?
    }

    struct Page: ResponseEncodable {
        let items: [Item]
        let next_cursor: String?
    }

    static let maxLimit = 500

    func addRoutes(to group: RouterGroup<GatewayRequestContext>) {
        group.get("history") { request, context -> Page in
            guard let caller = context.caller else { throw GatewayError.unauthorized }
            var query = try Self.query(request.uri.queryParameters)
            if !caller.isAdmin {
                if let asked = query.key, asked != caller.name {
                    throw GatewayError(403, "forbidden", "a client key sees only its own history", details: ["key": .string(asked)])
                }
                query.key = caller.name
            }
            await flush()
            let rows = try await store.history(query)
            let next = rows.count == query.limit ? rows.last.map { String($0.id) } : nil
            let format = ISO8601DateFormatter() // one per page: a formatter is far dearer than a row
            return Page(items: rows.map { Self.item($0, format: format) }, next_cursor: next)
        }
    }

    /// From the raw query string (what follows `?`), as the router would split it.
    static func query(string: String) throws -> HistoryQuery {
        try query(URI("/history?" + string).queryParameters)
    }

    static func query(_ parameters: Hummingbird.Parameters) throws -> HistoryQuery {
        var query = HistoryQuery()
        for name in parameters.map({ String($0.key) }) where !["key", "status", "worker", "gateway", "since", "until", "limit", "cursor"].contains(name) {
            throw GatewayError.invalid("unknown_parameter", "\(name) is not a history parameter (known: key, status, worker, gateway, since, until, limit, cursor)")
        }
        if let key = parameters.get("key"), !key.isEmpty { query.key = key }
        if let status = parameters.get("status") {
            guard let n = Int(status), (100...599).contains(n) else { throw invalid("status", "an HTTP status from 100 to 599") }
            query.status = n
        }
        if let worker = parameters.get("worker"), !worker.isEmpty {
            guard WorkerSpec.isValidName(worker) else { throw invalid("worker", "a worker's name (\(WorkerSpec.nameRule))") }
            query.worker = worker
        }
        if let gateway = parameters.get("gateway"), !gateway.isEmpty { query.gateway = gateway }
        if let since = parameters.get("since") { query.since = try date(since, "since") }
        if let until = parameters.get("until") { query.until = try date(until, "until") }
        if let limit = parameters.get("limit") {
            guard let n = Int(limit), (1...maxLimit).contains(n) else { throw invalid("limit", "a whole number from 1 to \(maxLimit)") }
            query.limit = n
        }
        if let cursor = parameters.get("cursor") {
            guard let n = Int64(cursor), n > 0 else { throw invalid("cursor", "the next_cursor of an earlier page") }
            query.before = n
        }
        return query
    }

    /// ISO 8601 (`2026-12-02T13:00:00Z`) or seconds since 1970.
    static func date(_ text: String, _ name: String) throws -> Date {
        if let seconds = Double(text), seconds.isFinite, abs(seconds) < 1e11 { return Date(timeIntervalSince1970: seconds) }
        let format = ISO8601DateFormatter()
        if let date = format.date(from: text) { return date }
        format.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        if let date = format.date(from: text) { return date }
        throw invalid(name, "an ISO 8601 time (2026-12-02T13:00:00Z) or seconds since 1970")
    }

    private static func invalid(_ name: String, _ expected: String) -> GatewayError {
        GatewayError.invalid("invalid_parameter", "\(name) must be \(expected)", details: ["parameter": .string(name)])
    }

    static func item(_ r: HistoryRecord, format: ISO8601DateFormatter) -> Item {
        func ms(_ seconds: Double?) -> Double? { seconds.map { ($0 * 10000).rounded() / 10 } }
        return Item(id: r.id, time: format.string(from: r.time), request_id: r.requestID, key: r.keyName, client: r.client,
                    engine: r.engine, language: r.language, text_length: r.textLength, text_sha256: r.textHash, text: r.text,
                    reference_sha256: r.referenceHash, status: r.status, error: r.errorCode, queue_wait_ms: ms(r.queueWait),
                    time_to_first_byte_ms: ms(r.timeToFirstByte), upstream_ms: ms(r.upstreamTime),
                    audio_seconds: r.audioSeconds.map { ($0 * 1000).rounded() / 1000 }, bytes_sent: r.bytesSent,
                    model: r.model, voice: r.voice, response_format: r.format, worker: r.worker, gateway: r.gateway)
    }
}
