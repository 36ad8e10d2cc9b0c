/// A reference-audio container, recognised from its bytes, never from its name.
public enum AudioFormat: String, Sendable, CaseIterable, Hashable {
    case wav, mp3, flac, ogg

    /// Recognises the container from the first bytes of a file (at least 12 are needed).
    public static func sniff(_ head: [UInt8]) -> AudioFormat? {
        func starts(_ s: String, at offset: Int = 0) -> Bool {
            let b = Array(s.utf8)
            return head.count >= offset + b.count && Array(head[offset..<offset + b.count]) == b
        }
        if starts("RIFF") && starts("WAVE", at: 8) { return .wav }
        if starts("RF64") && starts("WAVE", at: 8) { return .wav }
        if starts("fLaC") { return .flac }
        if starts("OggS") { return .ogg }
        if starts("ID3") { return .mp3 }
        if head.count >= 2, head[0] == 0xFF, head[1] & 0xE0 == 0xE0, MP3Frame(head, at: 0) != nil { return .mp3 }
        return nil
    }
}

extension AudioFormat {
    public var contentType: String {
        switch self {
        case .wav: return "audio/wav"
        case .mp3: return "audio/mpeg"
        case .flac: return "audio/flac"
        case .ogg: return "audio/ogg"
        }
    }
}
