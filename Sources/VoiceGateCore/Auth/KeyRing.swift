import Crypto
import Synchronization

/// The keys the gateway accepts right now: a copy of the store's, refreshed by `StoreSync` a few times a second,
/// so a key added, changed or revoked from the CLI or another gateway counts within a second.
public final class KeyRing: Sendable {
    private struct State {
        var byHash: [String: KeyRecord] = [:]
        var byName: [String: KeyRecord] = [:]
        /// Counts local changes, so a copy read from the store before one of them does not undo it.
        var generation = 0
    }

    private let state = Mutex(State())

    public init(_ keys: [KeyRecord] = []) { replace(keys) }

    public var generation: Int { state.withLock { $0.generation } }

    /// Takes the store's copy, unless this process changed a key after `generation` was read (the next copy will
    /// hold that change).
    public func replace(_ keys: [KeyRecord], readAfter generation: Int? = nil) {
        var fresh = State()
        for key in keys {
            fresh.byHash[key.keyHash] = key
            fresh.byName[key.name] = key
        }
        state.withLock { s in
            if let generation, generation != s.generation { return }
            fresh.generation = s.generation
            s = fresh
        }
    }

    public func upsert(_ key: KeyRecord) {
        state.withLock { s in
            s.generation += 1
            if let old = s.byName[key.name] { s.byHash[old.keyHash] = nil }
            s.byName[key.name] = key
            s.byHash[key.keyHash] = key
        }
    }

    public func remove(named name: String) {
        state.withLock { s in
            s.generation += 1
            if let old = s.byName.removeValue(forKey: name) { s.byHash[old.keyHash] = nil }
        }
    }

    public var all: [KeyRecord] { state.withLock { Array($0.byName.values) }.sorted { $0.name < $1.name } }

    public func key(named name: String) -> KeyRecord? { state.withLock { $0.byName[name] } }

    /// The enabled key whose secret was presented. The secret is hashed first, so the lookup works on digests and
    /// reveals nothing about the secrets; the final comparison of the digests runs in constant time.
    public func authenticate(_ presented: String?) -> KeyRecord? {
        guard let presented, !presented.isEmpty else { return nil }
        let digest = KeyRecord.hash(presented)
        guard let key = state.withLock({ $0.byHash[digest] }), key.enabled,
              Self.constantTimeEqual(Array(key.keyHash.utf8), Array(digest.utf8)) else { return nil }
        return key
    }

    static func constantTimeEqual(_ a: [UInt8], _ b: [UInt8]) -> Bool {
        guard a.count == b.count else { return false }
        var difference: UInt8 = 0
        for i in a.indices { difference |= a[i] ^ b[i] }
        return difference == 0
    }
}
