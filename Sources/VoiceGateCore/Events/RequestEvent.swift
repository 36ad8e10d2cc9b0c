import Foundation

/// One finished request, as the log line, the console and the figures see it.
public struct RequestEvent: Sendable, Equatable {
    public var sequence: Int = 0
    public var time: Date
    public var id: String
    /// Client address, or `console` for the console's own syntheses.
    public var client: String
    public var method: String
    public var path: String
    public var status: Int
    public var latency: Double
    public var bytes: Int
    public var errorCode: String?
    public var message: String?
    /// The key's name (never the key); nil when none was presented or accepted.
    public var key: String?
    /// The route's pattern (`/api/v1/keys/{name}`), which keeps metric labels few; Hummingbird names an unmatched
    /// request's `NotFound`.
    public var route: String?
    /// Set when the request was a synthesis: what its history row and figures need.
    public var synthesis: SynthesisFacts?

    public init(time: Date, id: String, client: String, method: String, path: String, status: Int, latency: Double,
                bytes: Int, errorCode: String? = nil, message: String? = nil, key: String? = nil, route: String? = nil,
                synthesis: SynthesisFacts? = nil) {
        self.time = time
        self.id = id
        self.client = client
        self.method = method
        self.path = path
        self.status = status
        self.latency = latency
        self.bytes = bytes
        self.errorCode = errorCode
        self.message = message
        self.key = key
        self.route = route
        self.synthesis = synthesis
    }

    public var isError: Bool { status >= 400 || errorCode != nil }
}
