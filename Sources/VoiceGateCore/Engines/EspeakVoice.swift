/// How an espeak-ng voice is chosen for a request: language → voice, speed → words per minute,
/// reference F0 → a male or female variant and a `-p` pitch that lands near that F0.
public struct EspeakVoice: Sendable, Equatable {
    public var voice: String
    public var wordsPerMinute: Int
    public var pitch: Int

    static let defaultWordsPerMinute = 175.0
    /// Median F0 measured at `-p` 0, 25, 50, 75, 99 (PitchEstimator over a 4 s English sentence).
    static let maleCalibration: [(pitch: Double, f0: Double)] = [(0, 69), (25, 83), (50, 103), (75, 132), (99, 171)]
    static let femaleCalibration: [(pitch: Double, f0: Double)] = [(0, 149), (25, 176), (50, 214), (75, 266), (99, 334)]
    static let femaleAbove = 160.0

    public init(language: String, text: String, speed: Double, referenceF0: Double?) {
        let base = Self.voiceName(language: language, text: text)
        wordsPerMinute = Int((Self.defaultWordsPerMinute * speed).rounded())
        guard let f0 = referenceF0 else {
            voice = base
            pitch = 50
            return
        }
        let female = f0 >= Self.femaleAbove
        voice = female ? base + "+f3" : base
        pitch = Self.pitch(for: f0, table: female ? Self.femaleCalibration : Self.maleCalibration)
    }

    static func pitch(for f0: Double, table: [(pitch: Double, f0: Double)]) -> Int {
        if f0 <= table[0].f0 { return 0 }
        for (a, b) in zip(table, table.dropFirst()) where f0 <= b.f0 {
            return Int((a.pitch + (f0 - a.f0) / (b.f0 - a.f0) * (b.pitch - a.pitch)).rounded())
        }
        return 99
    }

    /// espeak-ng voice names for the gateway's language codes; `auto` looks at the script of the text.
    static func voiceName(language: String, text: String) -> String {
        switch language {
        case "en": return "en"
        case "zh", "all_zh": return "cmn"
        case "ja", "all_ja": return "ja"
        case "yue", "all_yue", "auto_yue": return "yue"
        case "ko", "all_ko": return "ko"
        default:
            var hasHan = false
            for scalar in text.unicodeScalars {
                switch scalar.value {
                case 0x3040...0x30FF: return "ja" // kana
                case 0xAC00...0xD7AF, 0x1100...0x11FF: return "ko"
                case 0x4E00...0x9FFF, 0x3400...0x4DBF: hasHan = true
                default: continue
                }
            }
            return hasHan ? "cmn" : "en"
        }
    }
}
