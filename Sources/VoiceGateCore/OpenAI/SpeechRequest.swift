/// `POST /v1/audio/speech`'s body, checked as OpenAI's schema has it. Fields clients add of their own are ignored.
struct SpeechRequest: Sendable, Equatable {
    static let maxInput = 4096
    static let maxInstructions = 4096
    /// OpenAI's `speed` range.
    static let speedRange = 0.25...4.0
    /// What GPT-SoVITS's `speed_factor` takes here (the seed's range): OpenAI's speed is clamped into it, so 0.5-2
    /// play exactly as asked and the extremes play at the nearest speed the engine offers.
    static let engineSpeedRange = 0.5...2.0

    enum StreamFormat: String, Sendable { case audio, sse }

    var model: String
    var input: String
    var voice: String
    var format: SpeechFormat
    var speed: Double
    var streamFormat: StreamFormat
    /// Not OpenAI's: the text's language for GPT-SoVITS (`auto` when absent).
    var language: String

    var engineSpeed: Double { min(max(speed, Self.engineSpeedRange.lowerBound), Self.engineSpeedRange.upperBound) }

    /// Whether the upstream is asked to stream. A FLAC file states its length in STREAMINFO, before the first sample,
    /// and libsndfile (Python's `soundfile`) cannot read one whose length is "unknown": so a FLAC answer (not SSE)
    /// is made from the upstream's whole WAV, whose header declares the length, and is encoded as it arrives.
    /// Its first byte waits for the whole synthesis; every other format streams.
    var streamsUpstream: Bool { !(format == .flac && streamFormat == .audio) }

    init(model: String, input: String, voice: String, format: SpeechFormat = .mp3, speed: Double = 1, streamFormat: StreamFormat = .audio,
         language: String = "auto") {
        self.model = model
        self.input = input
        self.voice = voice
        self.format = format
        self.speed = speed
        self.streamFormat = streamFormat
        self.language = language
    }

    init(_ body: JSONBody) throws {
        guard let model = try body.string("model"), !model.isEmpty else {
            throw GatewayError.invalid("missing_model", "model is required (any name: tts-1, tts-1-hd, gpt-4o-mini-tts, ...)", param: "model")
        }
        guard let input = try body.string("input") else {
            throw GatewayError.invalid("missing_input", "input, the text to speak, is required", param: "input")
        }
        guard !input.allSatisfy(\.isWhitespace) else {
            throw GatewayError.invalid("empty_text", "input must not be empty or only whitespace", param: "input")
        }
        guard input.count <= Self.maxInput else {
            throw GatewayError.invalid("text_too_long", "input is \(input.count) characters; at most \(Self.maxInput) are allowed",
                                       details: ["length": .int(input.count), "max": .int(Self.maxInput)], param: "input")
        }
        self.init(model: model, input: input, voice: try Self.voice(body))
        if let raw = try body.optionalString("response_format") {
            format = try Self.format(raw)
        }
        if let speed = try body.number("speed") {
            guard Self.speedRange.contains(speed) else {
                throw GatewayError.invalid("invalid_speed", "speed \(speed) is out of range 0.25-4",
                                           details: ["min": .number(0.25), "max": .number(4)], param: "speed")
            }
            self.speed = speed
        }
        if let instructions = try body.optionalString("instructions"), instructions.count > Self.maxInstructions {
            throw GatewayError.invalid("instructions_too_long", "instructions may be at most \(Self.maxInstructions) characters", param: "instructions")
        }
        if let raw = try body.optionalString("stream_format") {
            guard let stream = StreamFormat(rawValue: raw) else {
                throw GatewayError.invalid("invalid_stream_format", "stream_format must be audio or sse: \(raw)", param: "stream_format")
            }
            streamFormat = stream
        }
        if let language = try SynthesisFields.language(try body.optionalString("language"), field: "language") {
            self.language = language
        }
    }

    /// A voice's name, or `{"id": name}` (OpenAI's custom voices).
    private static func voice(_ body: JSONBody) throws -> String {
        let missing = GatewayError.invalid("missing_voice", "voice is required: a saved voice's name, or {\"id\": name}", param: "voice")
        switch body.fields["voice"] {
        case nil: throw missing
        case let name as String where !name.isEmpty: return name
        case let object as [String: Any]:
            guard let id = object["id"] as? String, !id.isEmpty else { throw missing }
            return id
        default: throw missing
        }
    }

    static func format(_ raw: String) throws -> SpeechFormat {
        let served = SpeechFormat.served.map(\.rawValue).joined(separator: ", ")
        if raw == "aac" {
            throw GatewayError.invalid("unsupported_format", "aac is not served (no free AAC encoder ships with Debian); use one of \(served)",
                                       details: ["supported": .array(SpeechFormat.served.map { .string($0.rawValue) })], param: "response_format")
        }
        guard let format = SpeechFormat(rawValue: raw) else {
            throw GatewayError.invalid("unsupported_format", "response_format '\(raw)' is not one of \(served)",
                                       details: ["supported": .array(SpeechFormat.served.map { .string($0.rawValue) })], param: "response_format")
        }
        return format
    }
}
