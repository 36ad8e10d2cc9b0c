import Crypto
import Foundation

/// A named API key as the store holds it: never the key itself, only its SHA-256.
public struct KeyRecord: Sendable, Equatable {
    public enum Role: String, Sendable, CaseIterable, Codable {
        case admin
        case client
    }

    /// nil means no limit.
    public struct Limits: Sendable, Equatable {
        public var requestsPerMinute: Int?
        public var charactersPerDay: Int?
        public var concurrent: Int?

        public init(requestsPerMinute: Int? = nil, charactersPerDay: Int? = nil, concurrent: Int? = nil) {
            self.requestsPerMinute = requestsPerMinute
            self.charactersPerDay = charactersPerDay
            self.concurrent = concurrent
        }

        public static let none = Limits()
    }

    /// The key the seed's `API_KEY` (or the generated one) becomes.
    public static let defaultName = "default"

    public var name: String
    public var role: Role
    /// Lowercase hex SHA-256 of the key.
    public var keyHash: String
    public var limits: Limits
    public var enabled: Bool
    public var createdAt: Date
    public var lastUsedAt: Date?

    public init(name: String, role: Role, keyHash: String, limits: Limits = .none, enabled: Bool = true, createdAt: Date = Date(),
                lastUsedAt: Date? = nil) {
        self.name = name
        self.role = role
        self.keyHash = keyHash
        self.limits = limits
        self.enabled = enabled
        self.createdAt = createdAt
        self.lastUsedAt = lastUsedAt
    }

    public var isAdmin: Bool { role == .admin }

    public static func hash(_ key: String) -> String {
        SHA256.hex(of: key)
    }

    /// Names appear in URLs, logs and metric labels: kept to a safe alphabet.
    public static func isValidName(_ name: String) -> Bool {
        (1...64).contains(name.utf8.count) && name.utf8.allSatisfy { b in
            (b >= 0x30 && b <= 0x39) || (b >= 0x41 && b <= 0x5A) || (b >= 0x61 && b <= 0x7A) || b == 0x2D || b == 0x5F || b == 0x2E
        }
    }
}
