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

    public init(time: Date, id: String, client: String, method: String, path: String, status: Int, latency: Double,
                bytes: Int, errorCode: String? = nil, message: String? = nil) {
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
    }

    public var isError: Bool { status >= 400 || errorCode != nil }
}
