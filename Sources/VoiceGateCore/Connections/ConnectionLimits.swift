/// How many client connections the server keeps open, from one address and in all, and how long a request head
/// may take. The defaults are derived from the descriptor limit so that clients can never take the last descriptors.
public struct ConnectionLimits: Sendable, Equatable {
    /// Open client connections in all (`MAX_CONNECTIONS`).
    public var maxConnections: Int
    /// Open connections from one client address (`MAX_CONNECTIONS_PER_CLIENT`).
    public var maxPerClient: Int
    /// Seconds from a connection's first byte (or its opening) to the end of its request head (`CLIENT_HEADER_TIMEOUT`).
    public var headerTimeout: Double
    /// Seconds without a byte while a body is read, or between two requests of a kept-alive connection (`CLIENT_IDLE_TIMEOUT`).
    public var idleTimeout: Double
    /// Bytes a second below which a body read counts as crawling, and its place may go to a newcomer at
    /// `MAX_CONNECTIONS` (`CLIENT_BODY_MIN_RATE`; 0 never).
    public var bodyMinRate: Int

    public init(maxConnections: Int, maxPerClient: Int, headerTimeout: Double, idleTimeout: Double, bodyMinRate: Int = 1024) {
        self.maxConnections = maxConnections
        self.maxPerClient = maxPerClient
        self.headerTimeout = headerTimeout
        self.idleTimeout = idleTimeout
        self.bodyMinRate = bodyMinRate
    }

    /// Descriptors kept out of the clients' reach: the store (database, journal), the upstream client's pool, the
    /// espeak-ng pipes, the console's terminal, log files and libdispatch's `/proc/<tid>/stat`.
    public static func reserve(for limit: Int) -> Int { max(64, limit / 10) }

    /// The most connections the limit allows: each client connection may hold two descriptors (its socket and the
    /// file its upload streams into), and the reserve stays free. At most 16,384 (nginx's 512-1024 per worker are
    /// far lower); an operator sets `MAX_CONNECTIONS` for more.
    public static func defaultMaxConnections(descriptorLimit: Int) -> Int {
        max(1, min(16_384, (descriptorLimit - reserve(for: descriptorLimit)) / 2))
    }

    /// One address may take a quarter of the connections: a flood from one client leaves three quarters to others.
    /// Behind a reverse proxy every client has the proxy's address: set it to `MAX_CONNECTIONS` there.
    public static func defaultMaxPerClient(maxConnections: Int) -> Int { max(1, maxConnections / 4) }

    /// The most `MAX_CONNECTIONS` may be under `descriptorLimit` without eating into the reserve.
    public static func ceiling(descriptorLimit: Int) -> Int {
        max(1, (descriptorLimit - reserve(for: descriptorLimit)) / 2)
    }
}
