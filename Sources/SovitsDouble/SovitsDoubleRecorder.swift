import Foundation
import Synchronization

/// What the double saw: how many /tts requests overlapped, the bodies it received, protocol violations.
public final class SovitsDoubleRecorder: Sendable {
    public struct Stats: Sendable {
        public var ttsRequests = 0
        public var running = 0
        public var maxOverlap = 0
        public var probes = 0
        public var bodies: [[String: JSONAny]] = []
        public var violations: [String] = []
    }

    private let state = Mutex(Stats())

    public init() {}

    public var stats: Stats { state.withLock { $0 } }

    func begin(_ body: [String: JSONAny]?) {
        state.withLock { s in
            s.ttsRequests += 1
            s.running += 1
            s.maxOverlap = max(s.maxOverlap, s.running)
            if let body { s.bodies.append(body) }
        }
    }

    func end() { state.withLock { $0.running -= 1 } }
    func probe() { state.withLock { $0.probes += 1 } }
    func violation(_ text: String) { state.withLock { $0.violations.append(text) } }
}

/// A JSON value as the double received it, with its JSON type kept exact (true is not 1).
public enum JSONAny: Sendable, Equatable, Decodable {
    case string(String), number(Double), bool(Bool), null, other

    public init(from decoder: any Decoder) throws {
        let c = try decoder.singleValueContainer()
        if c.decodeNil() { self = .null }
        else if let v = try? c.decode(Bool.self) { self = .bool(v) }
        else if let v = try? c.decode(Double.self) { self = .number(v) }
        else if let v = try? c.decode(String.self) { self = .string(v) }
        else { self = .other }
    }

    public var string: String? { if case .string(let v) = self { return v }; return nil }
    public var number: Double? { if case .number(let v) = self { return v }; return nil }
    public var bool: Bool? { if case .bool(let v) = self { return v }; return nil }
}
