import Foundation

/// One gateway as the others sharing its store see it: written by its own sync every second, read by the gateways
/// view and `GET /api/v1/gateways`.
public struct GatewayPresence: Sendable, Equatable {
    public var name: String
    /// Where it listens (`HOST:PORT` as configured, the host name for a wildcard).
    public var address: String
    public var version: String
    public var startedAt: Date
    public var seenAt: Date
    public var inFlight: Int
    public var waiting: Int

    public init(name: String, address: String, version: String, startedAt: Date, seenAt: Date, inFlight: Int, waiting: Int) {
        self.name = name
        self.address = address
        self.version = version
        self.startedAt = startedAt
        self.seenAt = seenAt
        self.inFlight = inFlight
        self.waiting = waiting
    }

    /// Heard from within `staleAfter` seconds: a gateway that stopped cleanly leaves; one that did not goes quiet.
    public func isAlive(now: Date = Date()) -> Bool { now.timeIntervalSince(seenAt) <= Self.staleAfter }

    public static let staleAfter: TimeInterval = 10
}
