/// The audio formats a synthesis can be served in (OpenAI's `response_format`, the console's output format).
public enum SpeechFormat: String, Sendable, CaseIterable, Codable {
    case mp3, opus, flac, wav, pcm

    /// Served formats, in the order errors and lists name them.
    public static let served: [SpeechFormat] = [.mp3, .opus, .flac, .wav, .pcm]

    /// `pcm` is headerless s16le, so its rate goes into the type.
    public func contentType(sampleRate: Int) -> String {
        switch self {
        case .mp3: return "audio/mpeg"
        case .opus: return "audio/ogg"
        case .flac: return "audio/flac"
        case .wav: return "audio/wav"
        case .pcm: return "audio/pcm;rate=\(sampleRate)"
        }
    }

    public var fileExtension: String {
        switch self {
        case .opus: return "ogg"
        default: return rawValue
        }
    }

    /// A fresh encoder for audio at `sampleRate`; nil for wav and pcm, which pass the samples through.
    /// `totalFrames`: the length when it is known before the first sample (FLAC writes it in its header).
    func makeEncoder(sampleRate: Int, channels: Int, totalFrames: Int? = nil) throws -> (any AudioEncoder)? {
        switch self {
        case .mp3: return try MP3Encoder(sampleRate: sampleRate, channels: channels)
        case .opus: return try OpusEncoder(sampleRate: sampleRate, channels: channels)
        case .flac: return try FLACEncoder(sampleRate: sampleRate, channels: channels, totalFrames: totalFrames)
        case .wav, .pcm: return nil
        }
    }
}
