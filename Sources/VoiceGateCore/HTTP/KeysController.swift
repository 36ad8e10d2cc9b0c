import Foundation
import Hummingbird

/// The admin key API under the prefix: `GET/POST keys`, `PATCH/DELETE keys/{name}`. A client key gets 403.
struct KeysController {
    let administration: KeyAdministration
    let meter: UsageMeter

    /// Written with explicit nulls: "no limit" is an answer, not a missing field.
    struct LimitsJSON: Encodable {
        let requests_per_minute: Int?
        let characters_per_day: Int?
        let concurrent: Int?

        func encode(to encoder: any Encoder) throws {
            var c = encoder.container(keyedBy: CodingKeys.self)
            try c.encode(requests_per_minute, forKey: .requests_per_minute)
            try c.encode(characters_per_day, forKey: .characters_per_day)
            try c.encode(concurrent, forKey: .concurrent)
        }

        enum CodingKeys: String, CodingKey { case requests_per_minute, characters_per_day, concurrent }
    }

    struct UsageJSON: Encodable {
        let day: String
        let requests: Int
        let characters: Int
        let errors: Int
    }

    struct KeyJSON: ResponseEncodable {
        let name: String
        let role: String
        let enabled: Bool
        let limits: LimitsJSON
        let created_at: String
        let last_used_at: String?
        let usage_today: UsageJSON
        let in_flight: Int
        let limited_now: Bool
        /// Only in the answer that made the key.
        var key: String?
    }

    struct KeyList: ResponseEncodable {
        let keys: [KeyJSON]
    }

    static let fields: Set<String> = ["name", "role", "requests_per_minute", "characters_per_day", "concurrent", "enabled"]

    func addRoutes(to group: RouterGroup<GatewayRequestContext>) {
        group.get("keys") { _, context -> KeyList in
            _ = try context.requireAdmin()
            return KeyList(keys: json(try await administration.list()))
        }
        group.post("keys") { request, context -> EditedResponse<KeyJSON> in
            _ = try context.requireAdmin()
            let (name, role, limits) = try Self.creation(try await JSONBody.read(request))
            let (key, secret) = try await administration.add(name: name, role: role, limits: limits)
            var answer = json([key])[0]
            answer.key = secret
            return EditedResponse(status: .created, response: answer)
        }
        group.patch("keys/{name}") { request, context -> KeyJSON in
            let actor = try context.requireAdmin()
            let name = try context.parameters.require("name")
            let change = try Self.change(try await JSONBody.read(request))
            return json([try await administration.update(name: name, change, actor: actor.name)])[0]
        }
        group.delete("keys/{name}") { _, context -> Response in
            let actor = try context.requireAdmin()
            try await administration.revoke(name: try context.parameters.require("name"), actor: actor.name)
            return Response(status: .noContent)
        }
    }

    /// A POST body: the new key's name, role and limits (checked further by `KeyAdministration.add`).
    static func creation(_ body: JSONBody) throws -> (name: String, role: KeyRecord.Role, limits: KeyRecord.Limits) {
        try body.rejectUnknown(allowed: fields.subtracting(["enabled"]))
        guard let name = try body.string("name") else { throw GatewayError.invalid("missing_name", "name is required") }
        let limits = KeyRecord.Limits(requestsPerMinute: try body.optionalInt("requests_per_minute") ?? nil,
                                      charactersPerDay: try body.optionalInt("characters_per_day") ?? nil,
                                      concurrent: try body.optionalInt("concurrent") ?? nil)
        return (name, try role(body) ?? .client, limits)
    }

    /// A PATCH body.
    static func change(_ body: JSONBody) throws -> KeyAdministration.Change {
        try body.rejectUnknown(allowed: fields.subtracting(["name"]))
        return KeyAdministration.Change(role: try role(body), requestsPerMinute: try body.optionalInt("requests_per_minute"),
                                        charactersPerDay: try body.optionalInt("characters_per_day"),
                                        concurrent: try body.optionalInt("concurrent"), enabled: try body.bool("enabled"))
    }

    private static func role(_ body: JSONBody) throws -> KeyRecord.Role? {
        guard let text = try body.string("role") else { return nil }
        guard let role = KeyRecord.Role(rawValue: text) else {
            throw GatewayError.invalid("invalid_field", "role must be admin or client", details: ["field": .string("role")])
        }
        return role
    }

    /// The keys as answered, their use read from the meter at once.
    private func json(_ keys: [KeyRecord]) -> [KeyJSON] {
        let format = ISO8601DateFormatter()
        let day = meter.day
        return zip(keys, meter.views(for: keys)).map { key, view in
            KeyJSON(name: key.name, role: key.role.rawValue, enabled: key.enabled,
                    limits: LimitsJSON(requests_per_minute: key.limits.requestsPerMinute, characters_per_day: key.limits.charactersPerDay,
                                       concurrent: key.limits.concurrent),
                    created_at: format.string(from: key.createdAt), last_used_at: key.lastUsedAt.map { format.string(from: $0) },
                    usage_today: UsageJSON(day: day, requests: view.today.requests, characters: view.today.characters, errors: view.today.errors),
                    in_flight: view.inFlight, limited_now: view.limitedNow, key: nil)
        }
    }
}
