/// A failure with a stable, documented `error` code, the HTTP status it maps to, and a human message.
public struct GatewayError: Error, Sendable, CustomStringConvertible {
    public var statusCode: Int
    public var code: String
    public var message: String
    public var details: [String: JSONValue]?
    public var retryAfter: Int?
    /// The methods a path serves, for a 405.
    public var allow: String?
    /// The request field at fault, for OpenAI's error shape.
    public var param: String?
    /// The upstream was never reached (refused, unreachable, connect timed out): nothing was sent, so another
    /// worker may take the request.
    public var couldNotConnect = false

    public init(_ status: Int, _ code: String, _ message: String, details: [String: JSONValue]? = nil, retryAfter: Int? = nil,
                allow: String? = nil, param: String? = nil) {
        self.param = param
        self.statusCode = status
        self.code = code
        self.message = message
        self.details = details
        self.retryAfter = retryAfter
        self.allow = allow
    }

    public var description: String { "\(statusCode) \(code): \(message)" }

    public static func invalid(_ code: String, _ message: String, details: [String: JSONValue]? = nil, param: String? = nil) -> GatewayError {
        GatewayError(400, code, message, details: details, param: param)
    }

    public static func upstream(_ message: String, details: [String: JSONValue]? = nil) -> GatewayError {
        GatewayError(502, "upstream_error", message, details: details)
    }

    public static let unauthorized = GatewayError(401, "unauthorized", "missing or invalid API key (send X-API-Key or Authorization: Bearer)")
    public static let forbidden = GatewayError(403, "forbidden", "this route needs an admin key")
    public static func internalError(_ message: String) -> GatewayError { GatewayError(500, "internal_error", message) }

    /// The store (PostgreSQL, shared) cannot be reached: what needs it waits for it to come back.
    public static func storeUnavailable(_ error: any Error) -> GatewayError {
        GatewayError(503, "store_unavailable", "the store cannot be reached: \(StoreError.reason(error)); retry shortly", retryAfter: 5)
    }
}
