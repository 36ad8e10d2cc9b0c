import Foundation
import VoiceGateCore

/// What the operator typed into the form, with the API's own ranges.
public struct SynthesisForm: Sendable, Equatable {
    public static let languages = Language.sovits
    public var text = "Hello! This is VoiceGate speaking."
    public var languageIndex = 0
    public var speed = "1.0"
    public var temperature = "0.7"
    public var reference: String
    /// Saved voices the console may use, by name (refreshed from the store while the console runs).
    public var voices: [String] = []
    /// The chosen saved voice; nil uses the Reference file.
    public var voice: String?
    public var promptText = ""
    public static let formats: [SpeechFormat] = [.wav, .mp3, .opus, .flac]
    public var format: SpeechFormat = .wav
    /// Empty means a new timestamped file in the output folder.
    public var output = ""

    public init(reference: String) {
        self.reference = reference
    }

    public var language: String { Self.languages[languageIndex] }

    /// What the Voice selector shows when no saved voice is chosen.
    public static let fileChoice = "(the Reference file)"

    /// New names from the store; a chosen voice that is gone falls back to the file.
    public mutating func updateVoices(_ names: [String]) {
        voices = names
        if let voice, !names.contains(voice) { self.voice = nil }
    }

    public func value(_ field: FormField) -> String {
        switch field {
        case .text: return text
        case .language: return language
        case .speed: return speed
        case .temperature: return temperature
        case .voice: return voice ?? Self.fileChoice
        case .reference: return reference
        case .promptText: return promptText
        case .format: return format.rawValue
        case .output: return output
        }
    }

    public mutating func set(_ field: FormField, _ value: String) {
        switch field {
        case .text: text = value
        case .language, .voice, .format: break
        case .speed: speed = value
        case .temperature: temperature = value
        case .reference: reference = value
        case .promptText: promptText = value
        case .output: output = value
        }
    }

    /// Left/right on a selector or a number field.
    public mutating func step(_ field: FormField, by direction: Int) {
        switch field {
        case .language:
            languageIndex = (languageIndex + direction + Self.languages.count) % Self.languages.count
        case .voice:
            // The file first, then each saved voice.
            let choices: [String?] = [nil] + voices
            let index = choices.firstIndex(of: voice) ?? 0
            voice = choices[(index + direction + choices.count) % choices.count]
        case .format:
            let index = Self.formats.firstIndex(of: format) ?? 0
            format = Self.formats[(index + direction + Self.formats.count) % Self.formats.count]
        case .speed:
            speed = Self.stepped(speed, by: 0.1 * Double(direction), range: 0.5...2.0, fallback: 1.0)
        case .temperature:
            temperature = Self.stepped(temperature, by: 0.05 * Double(direction), range: 0.1...1.0, fallback: 0.7)
        default: break
        }
    }

    static func stepped(_ text: String, by delta: Double, range: ClosedRange<Double>, fallback: Double) -> String {
        let current = Double(text) ?? fallback
        let next = min(range.upperBound, max(range.lowerBound, ((current + delta) * 100).rounded() / 100))
        return String(format: "%.2f", next).replacingOccurrences(of: #"0$"#, with: "", options: .regularExpression)
    }

    /// The same validation the HTTP API applies.
    public func validated() throws -> SynthesisFields.Validated {
        var fields = SynthesisFields()
        fields.text = text
        fields.language = language
        fields.speed = speed
        fields.temperature = temperature
        fields.promptText = promptText
        return try fields.validate()
    }

    /// The file the audio goes to: the typed path, or `voicegate-YYYYmmdd-HHMMSS.<format>` in `folder`.
    public func outputPath(folder: String, now: Date = Date()) -> String {
        let typed = output.trimmingCharacters(in: .whitespaces)
        if !typed.isEmpty { return (typed as NSString).expandingTildeInPath }
        let formatter = DateFormatter()
        formatter.dateFormat = "yyyyMMdd-HHmmss"
        formatter.locale = Locale(identifier: "en_US_POSIX")
        return folder + "/voicegate-" + formatter.string(from: now) + "." + format.fileExtension
    }
}
