import Foundation
import Logging
import Synchronization

/// Counts open client connections, in all and per address, and decides who gets a place past `ConnectionLimits`.
///
/// At `MAX_CONNECTIONS` a new connection takes a place from the address holding the most connections: the one of
/// its connections that has waited longest for its request head
/// (a client that connects and sends nothing, or trickles), else of an upload slower than `CLIENT_BODY_MIN_RATE`
/// (Apache's `mod_reqtimeout` MinRate idea), else of the longest idle kept-alive one (nginx reuses idle
/// keep-alive connections when it runs out): a flood of silent or crawling connections from many addresses
/// cannot lock out a client that sends its request at once. Only when every connection is busy with a request at
/// a fair pace is the new one refused. `MAX_CONNECTIONS_PER_CLIENT` refuses at once: that address is using its own share.
/// Refusals, evictions and timeouts are counted for `/metrics` and logged at most once a second.
public final class ConnectionGate: Sendable {
    public enum Refusal: String, Error, Sendable, CaseIterable {
        case total = "max_connections"
        case perClient = "max_connections_per_client"
    }

    /// Why the gateway closed a connection the client had not finished using.
    public enum Timeout: String, Sendable, CaseIterable {
        /// The request head did not arrive within `CLIENT_HEADER_TIMEOUT`.
        case header
        /// A body stopped arriving for `CLIENT_IDLE_TIMEOUT`.
        case body
        /// A body crawled in below `CLIENT_BODY_MIN_RATE` while a newcomer needed the place.
        case slowBody = "slow_body"
    }

    /// Where a connection stands, for choosing whom to close at the limit.
    public enum Standing: Sendable {
        /// Opened, or began its next request, and has not finished the head.
        case awaitingHead
        /// Its request's body arrives slower than `CLIENT_BODY_MIN_RATE`.
        case slowBody
        /// A request is being read or handled.
        case busy
        /// Kept alive between two requests.
        case idle
    }

    public struct Ticket: Hashable, Sendable {
        let id: Int
    }

    public struct Snapshot: Sendable, Equatable {
        public var open: Int
        public var addresses: Int
        public var refused: [Refusal: Int]
        public var evicted: Int
        public var timedOut: [Timeout: Int]
    }

    private struct Connection {
        let address: String
        var standing: Standing
        var since: ContinuousClock.Instant
        let close: @Sendable (Standing) -> Void
    }

    private struct State {
        var connections: [Int: Connection] = [:]
        var byAddress: [String: Int] = [:]
        var nextID = 0
        var refused: [Refusal: Int] = [:]
        var evicted = 0
        var timedOut: [Timeout: Int] = [:]
        var unlogged: [Refusal: Int] = [:]
        var unloggedEvictions = 0
        var lastLogged: ContinuousClock.Instant?
    }

    public let limits: ConnectionLimits
    private let state = Mutex(State())
    private let logger: Logger

    public init(limits: ConnectionLimits, logger: Logger) {
        self.limits = limits
        self.logger = logger
    }

    /// A place for a new connection from `address`, or why there is none. `close` closes that connection, should
    /// a later one take its place. Every ticket must be `release`d once the connection has closed.
    public func admit(_ address: String, close: @escaping @Sendable (Standing) -> Void) -> Result<Ticket, Refusal> {
        let now = ContinuousClock.now
        let (outcome, victim, report) = state.withLock { s -> (Result<Ticket, Refusal>, Connection?, String?) in
            var victim: Connection?
            var refusal: Refusal?
            if s.byAddress[address, default: 0] >= limits.maxPerClient {
                refusal = .perClient
            } else if s.connections.count >= limits.maxConnections {
                if let id = Self.evictable(in: s.connections, byAddress: s.byAddress) {
                    victim = s.connections[id]
                    Self.remove(id, from: &s)
                    s.evicted += 1
                    if victim?.standing == .slowBody { s.timedOut[.slowBody, default: 0] += 1 }
                    s.unloggedEvictions += 1
                } else {
                    refusal = .total
                }
            }
            let outcome: Result<Ticket, Refusal>
            if let refusal {
                s.refused[refusal, default: 0] += 1
                s.unlogged[refusal, default: 0] += 1
                outcome = .failure(refusal)
            } else {
                let id = s.nextID
                s.nextID += 1
                s.connections[id] = Connection(address: address, standing: .awaitingHead, since: now, close: close)
                s.byAddress[address, default: 0] += 1
                outcome = .success(Ticket(id: id))
            }
            guard s.unloggedEvictions > 0 || !s.unlogged.isEmpty else { return (outcome, victim, nil) }
            if let last = s.lastLogged, now - last < .seconds(1) { return (outcome, victim, nil) }
            s.lastLogged = now
            defer { s.unlogged = [:]; s.unloggedEvictions = 0 }
            return (outcome, victim, describe(s.unlogged, evictions: s.unloggedEvictions, open: s.connections.count, address: address))
        }
        if let victim { victim.close(victim.standing) }
        if let report { logger.warning("\(report)") }
        return outcome
    }

    /// The connection has closed (a no-op for one a newcomer took the place of: its place is already gone).
    public func release(_ ticket: Ticket) {
        state.withLock { Self.remove(ticket.id, from: &$0) }
    }

    public func update(_ ticket: Ticket, to standing: Standing) {
        let now = ContinuousClock.now
        state.withLock { s in
            guard s.connections[ticket.id]?.standing != standing else { return }
            s.connections[ticket.id]?.standing = standing
            s.connections[ticket.id]?.since = now
        }
    }

    public func timedOut(_ reason: Timeout) {
        state.withLock { $0.timedOut[reason, default: 0] += 1 }
    }

    public var snapshot: Snapshot {
        state.withLock {
            Snapshot(open: $0.connections.count, addresses: $0.byAddress.count, refused: $0.refused, evicted: $0.evicted, timedOut: $0.timedOut)
        }
    }

    /// From the address holding the most connections (with one it may give up): a connection of its waiting for its
    /// head, else a crawling upload, else an idle one, the oldest. No grace: a flood that keeps opening connections
    /// closes its own before anyone else's, while a client that sends its request at once is the newest and from
    /// an address with few connections, the last to go (with a grace, such a flood would keep every place younger
    /// than it and lock everyone out).
    private static func evictable(in connections: [Int: Connection], byAddress: [String: Int]) -> Int? {
        var best: (id: Int, rank: Int, crowd: Int, since: ContinuousClock.Instant)?
        for (id, c) in connections {
            let rank: Int
            switch c.standing {
            case .awaitingHead: rank = 0
            case .slowBody: rank = 1
            case .idle: rank = 2
            case .busy: continue
            }
            let crowd = -(byAddress[c.address] ?? 0)
            if let b = best, (b.crowd, b.rank, b.since) <= (crowd, rank, c.since) { continue }
            best = (id, rank, crowd, c.since)
        }
        return best?.id
    }

    private static func remove(_ id: Int, from s: inout State) {
        guard let gone = s.connections.removeValue(forKey: id) else { return }
        if let n = s.byAddress[gone.address], n > 1 { s.byAddress[gone.address] = n - 1 } else { s.byAddress[gone.address] = nil }
    }

    private func describe(_ counts: [Refusal: Int], evictions: Int, open: Int, address: String) -> String {
        var parts: [String] = []
        if evictions > 0 { parts.append("\(evictions) closed to make room (silent, crawling or idle)") }
        if let n = counts[.total] { parts.append("\(n) refused at MAX_CONNECTIONS=\(limits.maxConnections) (every connection busy or newer than 1 s)") }
        if let n = counts[.perClient] { parts.append("\(n) refused at MAX_CONNECTIONS_PER_CLIENT=\(limits.maxPerClient) (latest from \(address))") }
        return "connections at their limits: \(parts.joined(separator: "; ")); \(open) open"
    }
}
