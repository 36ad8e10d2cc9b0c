import Foundation

/// What `POST /api/v1/jobs` asks for, from JSON or a form, checked into a job and its items: a list of items, a long
/// text to split, or a subtitle file (one item per cue). Every problem is a `400` naming the field.
public struct JobSubmission: Sendable {
    /// The longest piece a split makes: GPT-SoVITS cuts longer text itself and its quality falls (GPT-SoVITS #858).
    public static let pieceCharacters = 300
    public static let pauseRange = 0...10_000
    public static let maxSpeedRange = 1.0...2.0
    /// Items of one job run at once, at most: more would only queue behind each other in the key's lane.
    public static let parallelRange = 1...8
    static let clientIDLength = 128

    public struct Item: Sendable, Equatable {
        public var text: String
        public var id: String?

        public init(text: String, id: String? = nil) {
            self.text = text
            self.id = id
        }
    }

    public var voice: String?
    public var items: [Item]?
    public var text: String?
    public var split: String?
    /// An SRT or WebVTT file's bytes.
    public var subtitles: [UInt8]?
    public var format: String?
    public var pauseMs: Double?
    public var language: String?
    public var speed: Double?
    public var temperature: Double?
    public var seed: Double?
    public var callbackURL: String?
    public var fit: String?
    public var maxSpeed: Double?
    public var parallel: Double?

    public init() {}

    /// The limits a job is checked against (`JOB_MAX_ITEMS`, `JOB_MAX_CHARS`).
    public struct Limits: Sendable {
        public var maxItems: Int
        public var maxCharacters: Int

        public init(maxItems: Int, maxCharacters: Int) {
            self.maxItems = maxItems
            self.maxCharacters = maxCharacters
        }
    }

    /// The job (queued, for `key`) and its items; `callbackRefusal` says why a callback URL may not be used.
    public func job(id: String, key: String, limits: Limits, now: Date,
                    callbackRefusal: (String) -> String? = { _ in nil }) throws -> (JobRecord, [JobItemRecord]) {
        guard let voice = voice?.trimmed, !voice.isEmpty else {
            throw GatewayError.invalid("missing_voice", "voice, a saved voice's name, is required", param: "voice")
        }
        let sources = [items != nil, text != nil, subtitles != nil].filter { $0 }.count
        let oneOf = "send exactly one of items (a list of {\"text\"}), text (with split) or subtitles (an SRT or WebVTT file)"
        if sources == 0 { throw GatewayError.invalid("missing_items", oneOf) }
        if sources > 1 { throw GatewayError.invalid("ambiguous_items", oneOf) }
        var settings = JobRecord.Settings()
        if let format {
            guard let parsed = SpeechFormat(rawValue: format), [.wav, .mp3, .opus, .flac].contains(parsed) else {
                throw GatewayError.invalid("unsupported_format", "format must be wav, mp3, opus or flac: \(format)", param: "format")
            }
            settings.format = parsed
        }
        if let pauseMs {
            guard let whole = Int(exactly: pauseMs), Self.pauseRange.contains(whole) else {
                throw GatewayError.invalid("invalid_pause", "pause_ms must be a whole number from 0 to \(Self.pauseRange.upperBound)", param: "pause_ms")
            }
            settings.pauseMs = whole
        }
        // Exactly as the API documents it (JSON has no "empty means auto" or any-case spelling to carry over).
        if let language {
            guard Language.sovits.contains(language) else {
                throw GatewayError.invalid("unsupported_language", "language '\(language.prefix(40))' is not one of \(Language.sovits.joined(separator: ", "))",
                                           param: "language")
            }
            settings.language = language
        }
        if let speed {
            guard SynthesisFields.speedRange.contains(speed) else {
                throw GatewayError.invalid("invalid_speed", "speed must be from 0.5 to 2", param: "speed")
            }
            settings.speed = speed
        }
        if let temperature {
            guard (0.1...1.0).contains(temperature) else {
                throw GatewayError.invalid("invalid_temperature", "temperature must be from 0.1 to 1", param: "temperature")
            }
            settings.temperature = temperature
        }
        if let seed {
            guard let whole = Int(exactly: seed), whole >= -1, whole <= Int(UInt32.max) else {
                throw GatewayError.invalid("invalid_seed", "seed must be a whole number from -1 (random) to \(UInt32.max)", param: "seed")
            }
            settings.seed = whole
        }
        // Subtitle jobs only: a text job has no cues to fit.
        if let fit {
            guard fit == "speed" || fit == "push" else {
                throw GatewayError.invalid("invalid_fit", "fit must be push (later cues move back) or speed (speed up first)", param: "fit")
            }
            settings.fitSpeed = fit == "speed"
        }
        if let maxSpeed {
            guard Self.maxSpeedRange.contains(maxSpeed) else {
                throw GatewayError.invalid("invalid_max_speed", "max_speed must be from 1 to 2", param: "max_speed")
            }
            settings.maxSpeed = maxSpeed
        }
        if let parallel {
            guard let whole = Int(exactly: parallel), Self.parallelRange.contains(whole) else {
                throw GatewayError.invalid("invalid_parallel", "parallel must be a whole number from 1 to \(Self.parallelRange.upperBound)",
                                           param: "parallel")
            }
            settings.parallel = whole
        }
        if let callbackURL {
            if let refusal = callbackRefusal(callbackURL) { throw GatewayError.invalid("invalid_callback_url", refusal, param: "callback_url") }
            settings.callbackURL = callbackURL
        }
        let records = try self.records(limits: limits)
        let job = JobRecord(id: id, key: key, voice: voice, subtitles: subtitles != nil, settings: settings, total: records.count, createdAt: now)
        return (job, records)
    }

    private func records(limits: Limits) throws -> [JobItemRecord] {
        var records: [JobItemRecord] = []
        if let items {
            for (index, item) in items.enumerated() {
                guard !item.text.isBlank else {
                    throw GatewayError.invalid("empty_text", "item \(index) has no text", details: ["item": .int(index)], param: "items")
                }
                guard item.text.count <= SynthesisFields.maxTextLength else {
                    throw GatewayError.invalid("text_too_long", "item \(index) is \(item.text.count) characters; at most \(SynthesisFields.maxTextLength)",
                                               details: ["item": .int(index)], param: "items")
                }
                if let id = item.id, id.count > Self.clientIDLength {
                    throw GatewayError.invalid("invalid_item_id", "item \(index)'s id is longer than \(Self.clientIDLength) characters", param: "items")
                }
                records.append(JobItemRecord(index: index, clientID: item.id, text: item.text.trimmed))
            }
        } else if let text {
            let unit: TextSplitter.Unit
            switch split ?? "sentence" {
            case "sentence": unit = .sentence
            case "paragraph": unit = .paragraph
            default: throw GatewayError.invalid("invalid_split", "split must be sentence or paragraph", param: "split")
            }
            guard text.count <= limits.maxCharacters else { throw Self.tooManyCharacters(text.count, limits) }
            records = TextSplitter(maxCharacters: Self.pieceCharacters).pieces(text, by: unit).enumerated()
                .map { JobItemRecord(index: $0.offset, text: $0.element) }
        } else if let subtitles {
            let cues: [SubtitleCue]
            do {
                cues = try SubtitleFile.read(subtitles, maxCues: limits.maxItems).1
            } catch {
                throw GatewayError.invalid("invalid_subtitles", "the subtitle file cannot be read: \(error.description)",
                                           details: error.line.map { ["line": .int($0)] }, param: "subtitles")
            }
            for (index, cue) in cues.enumerated() where cue.text.count > SynthesisFields.maxTextLength {
                throw GatewayError.invalid("text_too_long", "cue \(index + 1) is \(cue.text.count) characters; at most \(SynthesisFields.maxTextLength)",
                                           param: "subtitles")
            }
            records = cues.enumerated().map { JobItemRecord(index: $0.offset, text: $0.element.text, cue: $0.element) }
        }
        guard !records.isEmpty else {
            throw GatewayError.invalid("empty_text", "the job has nothing to say", param: items != nil ? "items" : "text")
        }
        guard records.count <= limits.maxItems else {
            throw GatewayError.invalid("too_many_items", "the job has \(records.count) items; at most \(limits.maxItems) (JOB_MAX_ITEMS)",
                                       details: ["items": .int(records.count), "max": .int(limits.maxItems)])
        }
        let characters = records.reduce(0) { $0 + $1.text.count }
        guard characters <= limits.maxCharacters else { throw Self.tooManyCharacters(characters, limits) }
        return records
    }

    private static func tooManyCharacters(_ count: Int, _ limits: Limits) -> GatewayError {
        GatewayError.invalid("too_many_characters", "the job has \(count) characters; at most \(limits.maxCharacters) (JOB_MAX_CHARS)",
                             details: ["characters": .int(count), "max": .int(limits.maxCharacters)])
    }
}
