import Crypto
import Foundation
import Synchronization

/// What is known about one synthesis when it ends, for its history row and the figures.
/// Filled in as the request goes: the text once validated, the timings as the audio streams.
public struct SynthesisFacts: Sendable, Equatable {
    public var engine: String
    /// The worker that ran it, by name.
    public var worker: String?
    public var language: String?
    public var textLength = 0
    public var textHash: String?
    public var text: String?
    public var referenceHash: String?
    public var queueWait: Double?
    /// From the request's arrival to the first audio byte handed to the client.
    public var timeToFirstByte: Double?
    /// From leaving the queue to the upstream's last byte.
    public var upstreamTime: Double?
    public var audioSeconds: Double?
    public var model: String?
    public var voice: String?
    public var format: String?

    public init(engine: String) { self.engine = engine }

    public mutating func describe(text: String, language: String?, referenceHash: String?, keepText: Bool) {
        textLength = text.count
        textHash = SHA256.hex(of: text)
        self.text = keepText ? text : nil
        self.language = language
        self.referenceHash = referenceHash
    }

    /// Real-time factor: seconds of upstream work per second of audio.
    public var realTimeFactor: Double? {
        guard let upstreamTime, let audioSeconds, audioSeconds > 0 else { return nil }
        return upstreamTime / audioSeconds
    }
}

/// The facts of one synthesis while it runs, shared between the code that learns them (controller, result) and the
/// code that records the request when its body is done.
public final class SynthesisTrace: Sendable {
    private let facts: Mutex<SynthesisFacts>
    public let arrived: ContinuousClock.Instant

    public init(engine: String, arrived: ContinuousClock.Instant = .now) {
        facts = Mutex(SynthesisFacts(engine: engine))
        self.arrived = arrived
    }

    /// What the validated request says: text length and hash (the text only with `keepText`), language, reference.
    public func describe(_ request: SynthesisRequest, keepText: Bool, voice: String? = nil, format: SpeechFormat = .wav, model: String? = nil) {
        update {
            $0.describe(text: request.text, language: request.language, referenceHash: request.reference.contentHash, keepText: keepText)
            $0.voice = voice
            $0.format = format.rawValue
            $0.model = model
        }
    }

    public func update(_ change: (inout SynthesisFacts) -> Void) {
        facts.withLock { change(&$0) }
    }

    public var current: SynthesisFacts { facts.withLock { $0 } }
}
