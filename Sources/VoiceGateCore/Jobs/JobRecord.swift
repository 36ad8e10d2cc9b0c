import Foundation

/// A long-form or batch job as the store keeps it: who asked, with which voice and settings, how far it is, and which
/// gateway runs it (a lease it renews; when it lapses another gateway resumes the job).
public struct JobRecord: Sendable, Equatable {
    public enum Status: String, Sendable, CaseIterable, Codable {
        case queued, running, paused, done, failed, cancelled

        /// Still to run.
        public static let open: [Status] = [.queued, .running, .paused]
    }

    /// What every item of the job is synthesized and joined with.
    public struct Settings: Sendable, Equatable, Codable {
        public var format: SpeechFormat = .wav
        public var pauseMs = 300
        public var language: String?
        public var speed: Double?
        public var temperature: Double?
        public var seed: Int?
        /// Subtitle jobs: `speed` raises the speed up to `maxSpeed` before pushing later cues back.
        public var fitSpeed = false
        public var maxSpeed = 1.2
        public var callbackURL: String?
        /// Items run at once (each through the fair queue): 1, one after the other, unless the job asks for more.
        public var parallel = 1

        public init() {}

        /// Any setting a stored job lacks (it was stored by an older VoiceGate) keeps its default.
        public init(from decoder: any Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self)
            format = try c.decodeIfPresent(SpeechFormat.self, forKey: .format) ?? format
            pauseMs = try c.decodeIfPresent(Int.self, forKey: .pauseMs) ?? pauseMs
            language = try c.decodeIfPresent(String.self, forKey: .language)
            speed = try c.decodeIfPresent(Double.self, forKey: .speed)
            temperature = try c.decodeIfPresent(Double.self, forKey: .temperature)
            seed = try c.decodeIfPresent(Int.self, forKey: .seed)
            fitSpeed = try c.decodeIfPresent(Bool.self, forKey: .fitSpeed) ?? fitSpeed
            maxSpeed = try c.decodeIfPresent(Double.self, forKey: .maxSpeed) ?? maxSpeed
            callbackURL = try c.decodeIfPresent(String.self, forKey: .callbackURL)
            parallel = try c.decodeIfPresent(Int.self, forKey: .parallel) ?? parallel
        }
    }

    public var id: String
    public var key: String
    public var voice: String
    public var status: Status
    /// Subtitle jobs place each item at its cue.
    public var subtitles: Bool
    public var settings: Settings
    public var total: Int
    public var createdAt: Date
    public var finishedAt: Date?
    /// Why it failed or is paused, in words.
    public var reason: String?
    /// The gateway running it, while its lease holds.
    public var runner: String?

    public init(id: String, key: String, voice: String, status: Status = .queued, subtitles: Bool = false, settings: Settings = .init(),
                total: Int, createdAt: Date, finishedAt: Date? = nil, reason: String? = nil, runner: String? = nil) {
        self.id = id
        self.key = key
        self.voice = voice
        self.status = status
        self.subtitles = subtitles
        self.settings = settings
        self.total = total
        self.createdAt = createdAt
        self.finishedAt = finishedAt
        self.reason = reason
        self.runner = runner
    }
}

/// One piece of a job: its text, its cue (subtitle jobs) and, once synthesized, its audio's file and length.
public struct JobItemRecord: Sendable, Equatable {
    public enum Status: String, Sendable, CaseIterable, Codable {
        case pending, done, failed
    }

    public var index: Int
    public var clientID: String?
    public var text: String
    public var cue: SubtitleCue?
    public var status: Status
    public var durationMs: Int?
    /// The audio, as a name inside the jobs folder.
    public var fileName: String?
    public var error: String?

    public init(index: Int, clientID: String? = nil, text: String, cue: SubtitleCue? = nil, status: Status = .pending,
                durationMs: Int? = nil, fileName: String? = nil, error: String? = nil) {
        self.index = index
        self.clientID = clientID
        self.text = text
        self.cue = cue
        self.status = status
        self.durationMs = durationMs
        self.fileName = fileName
        self.error = error
    }
}
