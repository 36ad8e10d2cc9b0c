import Foundation
import Hummingbird

/// A small JSON object read from a request body, where "absent" and `null` differ (PATCH needs both).
struct JSONBody {
    static let maxBytes = 64 * 1024
    let fields: [String: Any]

    static func read(_ request: Request) async throws -> JSONBody {
        let buffer = try await request.body.collect(upTo: maxBytes)
        return try JSONBody(Data(buffer.readableBytesView))
    }

    init(_ data: Data) throws {
        guard let object = try? JSONSerialization.jsonObject(with: data), let fields = object as? [String: Any] else {
            throw GatewayError.invalid("invalid_json", "the body must be a JSON object")
        }
        self.fields = fields
    }

    func rejectUnknown(allowed: Set<String>) throws {
        if let unknown = fields.keys.sorted().first(where: { !allowed.contains($0) }) {
            throw GatewayError.invalid("unknown_field", "\(unknown) is not a field here (known: \(allowed.sorted().joined(separator: ", ")))",
                                       details: ["field": .string(unknown)])
        }
    }

    /// Absent is nil; null is refused like any other wrong type (these fields have no "none").
    func string(_ name: String) throws -> String? {
        guard let value = fields[name] else { return nil }
        guard let s = value as? String else { throw Self.wrongType(name, "a string") }
        return s
    }

    /// A number (not a boolean); absent or null is nil.
    func number(_ name: String) throws -> Double? {
        guard let value = fields[name], !(value is NSNull) else { return nil }
        guard let n = value as? NSNumber, !Self.isBoolean(n), n.doubleValue.isFinite else { throw Self.wrongType(name, "a number") }
        return n.doubleValue
    }

    /// A string where null means absent (OpenAI's optional fields).
    func optionalString(_ name: String) throws -> String? {
        if fields[name] is NSNull { return nil }
        return try string(name)
    }

    func bool(_ name: String) throws -> Bool? {
        guard let value = fields[name] else { return nil }
        // JSONSerialization gives NSNumber for both numbers and booleans: only a real boolean counts.
        guard let n = value as? NSNumber, Self.isBoolean(n) else { throw Self.wrongType(name, "true or false") }
        return n.boolValue
    }

    /// nil when absent, `.some(nil)` when null.
    func optionalInt(_ name: String) throws -> Int?? {
        guard let value = fields[name] else { return nil }
        if value is NSNull { return .some(nil) }
        guard let n = value as? NSNumber, !Self.isBoolean(n), let int = Int(exactly: n.doubleValue) else {
            throw Self.wrongType(name, "a whole number or null")
        }
        return .some(int)
    }

    private static let booleanType = type(of: NSNumber(value: true))

    private static func isBoolean(_ n: NSNumber) -> Bool { type(of: n) == booleanType }

    private static func wrongType(_ name: String, _ expected: String) -> GatewayError {
        GatewayError.invalid("invalid_field", "\(name) must be \(expected)", details: ["field": .string(name)], param: name)
    }
}
