import Foundation

/// Keys, daily usage, history and (as a `VoiceStore`) saved voices: what must survive a restart and, later, be shared by several gateways.
/// Callers never know which database is behind it.
public protocol GatewayStore: VoiceStore, JobStore {
    func keys() async throws -> [KeyRecord]
    func key(named name: String) async throws -> KeyRecord?
    /// The key whose secret hashes to `hash` (`KeyRecord.hash`), for a key made elsewhere a moment ago.
    func key(hash: String) async throws -> KeyRecord?
    /// Throws `StoreError.exists` when the name is taken.
    func insertKey(_ key: KeyRecord) async throws
    /// Replaces the row with the same name; false when there is none.
    func updateKey(_ key: KeyRecord) async throws -> Bool
    func deleteKey(named name: String) async throws -> Bool
    func markUsed(_ lastUsed: [String: Date]) async throws

    /// Adds to each key's counters for `day` (`YYYY-MM-DD`, UTC).
    func addUsage(day: String, _ usage: [String: KeyUsage]) async throws
    func usage(day: String) async throws -> [String: KeyUsage]

    /// Writes one round of the gateway's state in one transaction: history rows, usage increments by day, and when
    /// keys were last used. All of it or none.
    func write(_ batch: StoreBatch) async throws

    func appendHistory(_ records: [HistoryRecord]) async throws
    func history(_ query: HistoryQuery) async throws -> [HistoryRecord]
    /// Removes rows older than `date`, and the oldest beyond the newest `maxRows`; returns how many.
    func pruneHistory(before date: Date, keepingAtMost maxRows: Int) async throws -> Int

    /// This gateway's presence for the others (`gateways`); `leave` at a clean stop.
    func announce(_ presence: GatewayPresence) async throws
    func gateways() async throws -> [GatewayPresence]
    func leave(name: String) async throws

    func close() async throws

    /// Where per-minute and daily limits are counted when several gateways share this store; nil for a store of
    /// one gateway's own (it counts in memory).
    var limitLedger: (any LimitLedger)? { get }
}

public enum StoreError: Error, Sendable, Equatable, CustomStringConvertible {
    case exists(String)
    case unsupported(String)
    case unavailable(String)

    public var description: String {
        switch self {
        case .exists(let name): return "\(name) already exists"
        case .unsupported(let message), .unavailable(let message): return message
        }
    }

    /// What went wrong with the store, in one line that never holds a password.
    static func reason(_ error: any Error) -> String {
        (error as? StoreError)?.description ?? PostgresURL.reason(error)
    }

    /// The database could not be reached or went away (not a statement it refused): a 503 to retry, not a 500.
    static func isUnavailable(_ error: any Error) -> Bool {
        if case .unavailable = error as? StoreError { return true }
        return PostgresURL.isConnectionProblem(error)
    }
}

/// What `StoreSync` writes in one round.
public struct StoreBatch: Sendable {
    public var history: [HistoryRecord] = []
    /// Day (`YYYY-MM-DD`) -> key name -> increments.
    public var usage: [String: [String: KeyUsage]] = [:]
    public var lastUsed: [String: Date] = [:]

    public init(history: [HistoryRecord] = [], usage: [String: [String: KeyUsage]] = [:], lastUsed: [String: Date] = [:]) {
        self.history = history
        self.usage = usage
        self.lastUsed = lastUsed
    }

    public var isEmpty: Bool { history.isEmpty && usage.isEmpty && lastUsed.isEmpty }
}
