import Foundation

/// A key's per-minute and daily limits counted where every gateway sharing the store counts them, so that three
/// gateways admit what one would, not three times as much. Only a shared store has one; a gateway alone counts in
/// memory (`UsageMeter`) and never waits on a database to admit.
public protocol LimitLedger: Sendable {
    /// Counts one request of `key` if fewer than `limit` were counted in the 60 s before `now`; otherwise nothing is
    /// counted and the answer says in how many seconds one will be free.
    func countRequest(key: String, limit: Int, now: Date) async throws -> LimitDecision
    /// Adds `characters` to `key`'s count for `day` if it stays within `limit`; the answer carries the count after
    /// (admitted) or as it stands (refused).
    func chargeCharacters(key: String, day: String, characters: Int, limit: Int) async throws -> LimitDecision
}

public enum LimitDecision: Sendable, Equatable {
    /// `used`: the count with this one.
    case admitted(used: Int)
    /// `used`: the count as it stands; `retryAfter`: seconds until room is made (rates only).
    case refused(used: Int, retryAfter: Int)
}
