import Foundation

/// Adding, changing and revoking keys: the one implementation behind the admin HTTP API and `voicegate keys`.
public struct KeyAdministration: Sendable {
    /// A change to a key; nil fields stay as they are, `.some(nil)` limits are removed.
    public struct Change: Sendable, Equatable {
        public var role: KeyRecord.Role?
        public var requestsPerMinute: Int??
        public var charactersPerDay: Int??
        public var concurrent: Int??
        public var enabled: Bool?

        public init(role: KeyRecord.Role? = nil, requestsPerMinute: Int?? = nil, charactersPerDay: Int?? = nil, concurrent: Int?? = nil,
                    enabled: Bool? = nil) {
            self.role = role
            self.requestsPerMinute = requestsPerMinute
            self.charactersPerDay = charactersPerDay
            self.concurrent = concurrent
            self.enabled = enabled
        }

        public var isEmpty: Bool { self == Change() }
    }

    let store: any GatewayStore
    /// Told of each change at once, so this process need not wait for the next sync.
    let ring: KeyRing?

    public init(store: any GatewayStore, ring: KeyRing? = nil) {
        self.store = store
        self.ring = ring
    }

    /// Makes a key; the secret is returned here and never again.
    public func add(name: String, role: KeyRecord.Role, limits: KeyRecord.Limits) async throws -> (key: KeyRecord, secret: String) {
        try Self.check(name: name)
        try Self.check(limits)
        let secret = "vg_" + APIKeyStore.generate()
        let key = KeyRecord(name: name, role: role, keyHash: KeyRecord.hash(secret), limits: limits)
        do {
            try await store.insertKey(key)
        } catch StoreError.exists {
            throw GatewayError(409, "key_exists", "a key named \(name) already exists", details: ["name": .string(name)])
        }
        ring?.upsert(key)
        return (key, secret)
    }

    public func list() async throws -> [KeyRecord] { try await store.keys() }

    /// `actor` is the key making the change over HTTP: it may not lock itself out.
    public func update(name: String, _ change: Change, actor: String? = nil) async throws -> KeyRecord {
        guard var key = try await store.key(named: name) else { throw Self.notFound(name) }
        if actor == name, change.enabled == false || change.role == .client {
            throw GatewayError(409, "key_in_use", "a key cannot disable or demote itself; use another admin key")
        }
        if let role = change.role { key.role = role }
        if let v = change.requestsPerMinute { key.limits.requestsPerMinute = v }
        if let v = change.charactersPerDay { key.limits.charactersPerDay = v }
        if let v = change.concurrent { key.limits.concurrent = v }
        if let enabled = change.enabled { key.enabled = enabled }
        try Self.check(key.limits)
        guard try await store.updateKey(key) else { throw Self.notFound(name) }
        ring?.upsert(key)
        return key
    }

    public func revoke(name: String, actor: String? = nil) async throws {
        if name == KeyRecord.defaultName {
            throw GatewayError(409, "key_in_use", "default is the key of API_KEY (or the generated one) and comes back at every start: "
                               + "disable it instead (enabled false, or voicegate keys set default --disable)")
        }
        if actor == name { throw GatewayError(409, "key_in_use", "a key cannot revoke itself; use another admin key") }
        guard try await store.deleteKey(named: name) else { throw Self.notFound(name) }
        ring?.remove(named: name)
    }

    /// The seed's single key is the admin key `default`: made on first start, its secret updated when API_KEY changes,
    /// its limits and state left as the operator set them. `replacing: false` keeps a `default` that exists (a store
    /// shared with other gateways, this one's key only generated: the first gateway's key stays everyone's).
    @discardableResult
    public func ensureDefault(secret: String, replacing: Bool = true) async throws -> KeyRecord {
        let hash = KeyRecord.hash(secret)
        if var key = try await store.key(named: KeyRecord.defaultName) {
            if key.keyHash != hash, replacing {
                key.keyHash = hash
                _ = try await store.updateKey(key)
            }
            return key
        }
        let key = KeyRecord(name: KeyRecord.defaultName, role: .admin, keyHash: hash)
        do {
            try await store.insertKey(key)
        } catch StoreError.exists {
            // Another process made it at the same moment.
            return try await store.key(named: KeyRecord.defaultName) ?? key
        }
        return key
    }

    static func notFound(_ name: String) -> GatewayError {
        GatewayError(404, "key_not_found", "no key is named \(name)", details: ["name": .string(name)])
    }

    static func check(name: String) throws {
        guard KeyRecord.isValidName(name) else {
            throw GatewayError.invalid("invalid_key_name", "a key name is 1-64 letters, digits, '.', '_' or '-'", details: ["name": .string(name)])
        }
    }

    static func check(_ limits: KeyRecord.Limits) throws {
        for (name, value) in [("rpm", limits.requestsPerMinute), ("chars_per_day", limits.charactersPerDay), ("concurrent", limits.concurrent)] {
            if let value, value < 1 || value > 1_000_000_000 {
                throw GatewayError.invalid("invalid_limit", "\(name) must be a whole number from 1 to 1000000000 (or null for no limit)",
                                           details: ["limit": .string(name), "value": .int(value)])
            }
        }
    }
}
