/// What one key spent on one UTC day. Stored as increments, so several gateways can add to the same row.
public struct KeyUsage: Sendable, Equatable {
    public var requests: Int
    public var characters: Int
    public var errors: Int

    public init(requests: Int = 0, characters: Int = 0, errors: Int = 0) {
        self.requests = requests
        self.characters = characters
        self.errors = errors
    }

    public static func + (a: KeyUsage, b: KeyUsage) -> KeyUsage {
        KeyUsage(requests: a.requests + b.requests, characters: a.characters + b.characters, errors: a.errors + b.errors)
    }

    public static func += (a: inout KeyUsage, b: KeyUsage) { a = a + b }

    public var isZero: Bool { requests == 0 && characters == 0 && errors == 0 }
}
