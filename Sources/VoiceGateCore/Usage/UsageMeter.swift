import Foundation
import Synchronization

/// Each key's spending against its limits: requests in the last minute, characters today, requests in flight.
/// Today's counters start from the store and flow back to it as increments (`drain`), so they survive a restart
/// and several gateways can add to the same rows. With a shared store (`ledger`) a key's per-minute and daily
/// limits are counted in the store at admission, exactly across gateways; in flight stays each gateway's own.
public final class UsageMeter: Sendable {
    /// What the console's keys view shows for one key.
    public struct KeyView: Sendable, Equatable {
        public var name: String
        public var role: KeyRecord.Role
        public var limits: KeyRecord.Limits
        public var enabled: Bool
        public var today: KeyUsage
        public var lastMinute: Int
        public var inFlight: Int
        /// Refused for a limit in the last few seconds.
        public var limitedNow: Bool
    }

    private struct Account {
        /// Times of admitted requests in the last minute, oldest first.
        var recent = MinuteCounter()
        var inFlight = 0
        /// Today's use as the store last said, plus what this process added since but has not written yet.
        var stored = KeyUsage()
        var pending = KeyUsage()
        var lastRefusal: ContinuousClock.Instant?
        var lastUsed: Date?
        /// When `lastUsed` was last handed out to be written: a busy key's last use is written once a second, not
        /// with every round.
        var lastUseWritten: ContinuousClock.Instant?
    }

    private struct State {
        var day: String
        /// When `day` ends: naming the day takes a calendar, so it is done once a day, not per request.
        var dayEnds: Date
        var accounts: [String: Account] = [:]
        /// Increments of earlier days not yet written (a day that ended between two drains, or a failed write).
        var unwritten: [String: [String: KeyUsage]] = [:]
    }

    /// What to write to the store: increments by day and key, and when each key was last used.
    public struct Drain: Sendable {
        public var usage: [String: [String: KeyUsage]]
        public var lastUsed: [String: Date]
        public var isEmpty: Bool { usage.isEmpty && lastUsed.isEmpty }
    }

    private let state: Mutex<State>
    private let clock = ContinuousClock()
    let ledger: (any LimitLedger)?

    public init(now: Date = Date(), ledger: (any LimitLedger)? = nil) {
        state = Mutex(State(day: UsageDay.name(of: now), dayEnds: UsageDay.nextReset(after: now)))
        self.ledger = ledger
    }

    /// Admits a request for `key` if its limits allow; the permit must be released when the request is done.
    /// Counts the request. A per-minute limit on a shared store is counted there first (`503 store_unavailable`
    /// while it cannot be reached: admitting from memory could let several gateways through at once).
    public func admit(_ key: KeyRecord, now: Date = Date()) async throws(GatewayError) -> UsagePermit {
        guard let ledger, let limit = key.limits.requestsPerMinute else { return try admitLocally(key, now: now) }
        let instant = clock.now
        // What this gateway alone already refuses costs no round trip.
        let local: GatewayError? = state.withLock { s in
            rollOver(&s, now: now)
            return Self.admit(key, to: &s.accounts[key.name, default: Account()], at: instant, now: now, counting: false)
        }
        if let local { throw local }
        let decision: LimitDecision
        do {
            decision = try await ledger.countRequest(key: key.name, limit: limit, now: now)
        } catch {
            throw GatewayError.storeUnavailable(error)
        }
        if case .refused(_, let wait) = decision {
            state.withLock { $0.accounts[key.name, default: Account()].lastRefusal = instant }
            throw Self.rateError(key: key.name, limit: limit, wait: wait)
        }
        return try admitLocally(key, now: now)
    }

    /// Admits on this gateway's own counts alone.
    func admitLocally(_ key: KeyRecord, now: Date = Date()) throws(GatewayError) -> UsagePermit {
        let instant = clock.now
        let refusal: GatewayError? = state.withLock { s in
            rollOver(&s, now: now)
            return Self.admit(key, to: &s.accounts[key.name, default: Account()], at: instant, now: now)
        }
        if let refusal { throw refusal }
        return UsagePermit(meter: self, key: key)
    }

    /// Checks one request against the account and, when `counting`, counts it in place.
    private static func admit(_ key: KeyRecord, to account: inout Account, at instant: ContinuousClock.Instant, now: Date,
                              counting: Bool = true) -> GatewayError? {
        if let limit = key.limits.concurrent, account.inFlight >= limit {
            account.lastRefusal = instant
            return GatewayError(429, "rate_limited", "key \(key.name) already has \(account.inFlight) requests in flight (its limit)",
                                details: ["limit": .string("concurrent"), "limit_value": .int(limit)], retryAfter: 1)
        }
        if let limit = key.limits.requestsPerMinute, account.recent.count(at: instant) >= limit {
            account.lastRefusal = instant
            return rateError(key: key.name, limit: limit, wait: account.recent.secondsUntilBelow(limit, at: instant))
        }
        if let limit = key.limits.charactersPerDay, account.stored.characters + account.pending.characters >= limit {
            account.lastRefusal = instant
            return quotaError(key: key.name, limit: limit, used: account.stored.characters + account.pending.characters, now: now)
        }
        guard counting else { return nil }
        account.recent.add(at: instant)
        account.inFlight += 1
        account.pending.requests += 1
        account.lastUsed = now
        return nil
    }

    static func rateError(key: String, limit: Int, wait: Int) -> GatewayError {
        GatewayError(429, "rate_limited", "key \(key) made \(limit) requests in the last minute (its limit); retry in \(wait) s",
                     details: ["limit": .string("requests_per_minute"), "limit_value": .int(limit), "retry_after_seconds": .int(wait)],
                     retryAfter: wait)
    }

    /// Charges `characters` to today's quota; refuses (and charges nothing) when they do not fit. On a shared store
    /// a key with a daily limit is charged there, in one conditional statement, and the answer is today's total.
    func charge(_ key: KeyRecord, characters: Int, now: Date = Date()) async throws(GatewayError) {
        guard let ledger, let limit = key.limits.charactersPerDay else { return try chargeLocally(key, characters: characters, now: now) }
        let day = state.withLock { s in
            rollOver(&s, now: now)
            return s.day
        }
        let decision: LimitDecision
        do {
            decision = try await ledger.chargeCharacters(key: key.name, day: day, characters: characters, limit: limit)
        } catch {
            throw GatewayError.storeUnavailable(error)
        }
        let instant = clock.now
        switch decision {
        case .admitted(let used):
            state.withLock { s in
                // Already in the store: it goes to `stored`, never to the increments `drain` writes.
                if s.day == day { s.accounts[key.name, default: Account()].stored.characters = used }
            }
        case .refused(let used, _):
            state.withLock { $0.accounts[key.name, default: Account()].lastRefusal = instant }
            throw Self.quotaError(key: key.name, limit: limit, used: used, now: now, asked: characters)
        }
    }

    /// Charges on this gateway's own counts alone.
    func chargeLocally(_ key: KeyRecord, characters: Int, now: Date = Date()) throws(GatewayError) {
        let instant = clock.now
        let refusal: GatewayError? = state.withLock { s in
            rollOver(&s, now: now)
            let used = (s.accounts[key.name]?.stored.characters ?? 0) + (s.accounts[key.name]?.pending.characters ?? 0)
            if let limit = key.limits.charactersPerDay, used + characters > limit {
                s.accounts[key.name, default: Account()].lastRefusal = instant
                return Self.quotaError(key: key.name, limit: limit, used: used, now: now, asked: characters)
            }
            s.accounts[key.name, default: Account()].pending.characters += characters
            return nil
        }
        if let refusal { throw refusal }
    }

    static func quotaError(key: String, limit: Int, used: Int, now: Date, asked: Int? = nil) -> GatewayError {
        let reset = UsageDay.nextReset(after: now)
        let wait = max(1, Int(reset.timeIntervalSince(now).rounded(.up)))
        var message = "key \(key) has used \(used) of its \(limit) characters today"
        if let asked { message += "; this text has \(asked)" }
        return GatewayError(429, "quota_exceeded", message + "; the quota resets at midnight UTC",
                            details: ["limit": .string("characters_per_day"), "limit_value": .int(limit), "used": .int(used),
                                      "resets_at": .string(ISO8601DateFormatter().string(from: reset))],
                            retryAfter: wait)
    }

    fileprivate func release(_ key: String, failed: Bool) {
        state.withLock { s in
            s.accounts[key]?.inFlight -= 1
            if failed { s.accounts[key]?.pending.errors += 1 }
        }
    }

    /// Takes what was added since the last drain, to be written to the store; `everything` also takes last uses
    /// written less than a second ago (at shutdown).
    public func drain(everything: Bool = false) -> Drain {
        let now = clock.now
        return state.withLock { s in
            var out = Drain(usage: s.unwritten, lastUsed: [:])
            s.unwritten = [:]
            for (name, account) in s.accounts {
                if !account.pending.isZero {
                    // Added to, not over, what an earlier failed write left for the same day.
                    out.usage[s.day, default: [:]][name, default: KeyUsage()] += account.pending
                }
                if let used = account.lastUsed, everything || account.lastUseWritten.map({ now - $0 >= .seconds(1) }) ?? true {
                    out.lastUsed[name] = used
                    s.accounts[name]!.lastUsed = nil
                    s.accounts[name]!.lastUseWritten = now
                }
                s.accounts[name]!.stored = account.stored + account.pending
                s.accounts[name]!.pending = KeyUsage()
            }
            return out
        }
    }

    /// Puts back what a failed write took, so it is written next time (today's figures do not change meanwhile).
    public func restore(_ drain: Drain) {
        state.withLock { s in
            for (day, usage) in drain.usage {
                for (name, u) in usage { s.unwritten[day, default: [:]][name, default: KeyUsage()] += u }
            }
            for (name, date) in drain.lastUsed where s.accounts[name]?.lastUsed == nil { s.accounts[name]?.lastUsed = date }
        }
    }

    /// Today's totals as the store holds them (this and every other gateway's), read after a drain was written.
    public func refresh(day: String, stored: [String: KeyUsage]) {
        state.withLock { s in
            guard s.day == day else { return }
            for name in Set(stored.keys).union(s.accounts.keys) {
                s.accounts[name, default: Account()].stored = stored[name] ?? KeyUsage()
            }
        }
    }

    public var day: String { state.withLock { $0.day } }

    public func views(for keys: [KeyRecord]) -> [KeyView] {
        let now = clock.now
        return state.withLock { s in
            keys.map { key in
                let a = s.accounts[key.name] ?? Account()
                let lastMinute = a.recent.count(at: now)
                return KeyView(name: key.name, role: key.role, limits: key.limits, enabled: key.enabled, today: a.stored + a.pending,
                               lastMinute: lastMinute, inFlight: a.inFlight,
                               limitedNow: a.lastRefusal.map { now - $0 < .seconds(5) } ?? false)
            }
        }
    }

    private func rollOver(_ s: inout State, now: Date) {
        guard now >= s.dayEnds else { return }
        let today = UsageDay.name(of: now)
        s.dayEnds = UsageDay.nextReset(after: now)
        guard today != s.day else { return }
        for (name, account) in s.accounts where !account.pending.isZero {
            s.unwritten[s.day, default: [:]][name, default: KeyUsage()] += account.pending
        }
        s.day = today
        for name in s.accounts.keys {
            s.accounts[name]!.stored = KeyUsage()
            s.accounts[name]!.pending = KeyUsage()
        }
    }
}

/// A request's place against its key's in-flight limit. Released once, explicitly or when dropped.
public final class UsagePermit: Sendable {
    private let meter: UsageMeter
    public let key: KeyRecord
    private let released = Atomic<Bool>(false)

    init(meter: UsageMeter, key: KeyRecord) {
        self.meter = meter
        self.key = key
    }

    public func charge(characters: Int) async throws(GatewayError) {
        try await meter.charge(key, characters: characters)
    }

    public func release(failed: Bool = false) {
        if !released.exchange(true, ordering: .acquiringAndReleasing) { meter.release(key.name, failed: failed) }
    }

    deinit { release() }
}
