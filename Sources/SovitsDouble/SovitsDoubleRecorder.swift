import Foundation
import Synchronization

/// What the double saw: how many /tts requests overlapped, the bodies it received, protocol violations, the weights
/// it was told to load, and when each request ran (to measure the idle gap between one request and the next).
public final class SovitsDoubleRecorder: Sendable {
    public struct Stats: Sendable {
        public var ttsRequests = 0
        public var running = 0
        public var maxOverlap = 0
        public var probes = 0
        public var bodies: [[String: JSONAny]] = []
        /// When each of `bodies` arrived, in seconds on the monotonic clock (`SovitsDoubleRecorder.now()`).
        public var began: [Double] = []
        public var violations: [String] = []
        /// `/set_gpt_weights` and `/set_sovits_weights` calls that loaded something.
        public var weightLoads = 0
        public var gptWeights: String?
        public var sovitsWeights: String?
        /// The weights each /tts request ran on, `gpt + sovits` (nil parts: the startup ones).
        public var weightsPerRequest: [String] = []
        /// When each /tts request began and ended, in seconds on the monotonic clock.
        public var intervals: [(start: Double, end: Double)] = []

        /// Seconds between one request's end and the next one's start, for requests that followed each other.
        public var idleGaps: [Double] {
            let sorted = intervals.sorted { $0.start < $1.start }
            return zip(sorted, sorted.dropFirst()).map { $1.start - $0.end }
        }

        /// Weight switches as the double saw them: one per GPT load (the gateway loads GPT, then SoVITS).
        public var switches = 0
    }

    private let state = Mutex((stats: Stats(), open: [Int: Double](), nextJob: 1))

    private let keepsRecords: Bool

    public init(keepsRecords: Bool = true) { self.keepsRecords = keepsRecords }

    public var stats: Stats { state.withLock { $0.stats } }

    public static func now() -> Double {
        var t = timespec()
        clock_gettime(CLOCK_MONOTONIC, &t)
        return Double(t.tv_sec) + Double(t.tv_nsec) / 1e9
    }

    func begin(_ body: [String: JSONAny]?) -> Int {
        let time = Self.now()
        return state.withLock { s in
            let job = s.nextJob
            s.nextJob += 1
            s.open[job] = time
            s.stats.ttsRequests += 1
            s.stats.running += 1
            s.stats.maxOverlap = max(s.stats.maxOverlap, s.stats.running)
            guard keepsRecords else { return job }
            if let body {
                s.stats.bodies.append(body)
                s.stats.began.append(time)
            }
            s.stats.weightsPerRequest.append((s.stats.gptWeights ?? "-") + " + " + (s.stats.sovitsWeights ?? "-"))
            return job
        }
    }

    func end(_ job: Int) {
        let time = Self.now()
        state.withLock { s in
            guard let start = s.open.removeValue(forKey: job) else { return }
            s.stats.running -= 1
            if keepsRecords { s.stats.intervals.append((start, time)) }
        }
    }

    func load(kind: String, path: String) {
        state.withLock { s in
            if s.stats.running > 0 { s.stats.violations.append("\(kind) weights loaded while a request ran") }
            s.stats.weightLoads += 1
            if kind == "gpt" {
                s.stats.gptWeights = path
                s.stats.switches += 1
            } else {
                s.stats.sovitsWeights = path
            }
        }
    }

    func probe() { state.withLock { $0.stats.probes += 1 } }
    func violation(_ text: String) { state.withLock { $0.stats.violations.append(text) } }

    /// Forgets the timings and counts (a benchmark's warm-up).
    public func reset() {
        state.withLock { s in
            let loaded = (s.stats.gptWeights, s.stats.sovitsWeights)
            s.stats = Stats()
            (s.stats.gptWeights, s.stats.sovitsWeights) = loaded
        }
    }
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
