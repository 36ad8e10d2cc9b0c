import Synchronization

/// Authenticates against the `KeyRing`, and looks a key the ring does not know up in the store before refusing it:
/// a key made a moment ago by `voicegate keys add` (another process) or another gateway works at once, not after
/// the next sync. The look-ups are bounded so a flood of wrong keys cannot hammer the store: a token bucket
/// (`perSecond`, as many in a burst), and a wrong key is remembered as wrong for a second.
public final class KeyLookup: Sendable {
    private struct State {
        var tokens: Double
        var refilled: ContinuousClock.Instant
        /// Digests found in no store lately, until when.
        var misses: [String: ContinuousClock.Instant] = [:]
        var lookups = 0
    }

    let ring: KeyRing
    private let store: any GatewayStore
    private let perSecond: Double
    private let state: Mutex<State>
    private static let missMemory = Duration.seconds(1)
    private static let missCapacity = 4096

    public init(ring: KeyRing, store: any GatewayStore, perSecond: Double = 20) {
        self.ring = ring
        self.store = store
        self.perSecond = perSecond
        state = Mutex(State(tokens: perSecond, refilled: .now))
    }

    public func authenticate(_ presented: String?) async -> KeyRecord? {
        if let key = ring.authenticate(presented) { return key }
        guard let presented, !presented.isEmpty else { return nil }
        let digest = KeyRecord.hash(presented)
        guard mayLookUp(digest) else { return nil }
        guard let found = try? await store.key(hash: digest) else {
            remember(digest)
            return nil
        }
        ring.upsert(found)
        return ring.authenticate(presented)
    }

    /// Store look-ups made since the start (the bound's test reads it).
    var lookups: Int { state.withLock { $0.lookups } }

    private func mayLookUp(_ digest: String) -> Bool {
        let now = ContinuousClock.now
        return state.withLock { s in
            if let until = s.misses[digest], until > now { return false }
            let elapsed = (now - s.refilled).seconds
            s.tokens = min(perSecond, s.tokens + elapsed * perSecond)
            s.refilled = now
            guard s.tokens >= 1 else { return false }
            s.tokens -= 1
            s.lookups += 1
            return true
        }
    }

    private func remember(_ digest: String) {
        let now = ContinuousClock.now
        state.withLock { s in
            if s.misses.count >= Self.missCapacity { s.misses = s.misses.filter { $0.value > now } }
            if s.misses.count < Self.missCapacity { s.misses[digest] = now + Self.missMemory }
        }
    }
}
