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
    public var promptText = ""
    /// Empty means a new timestamped file in the output folder.
    public var output = ""

    public init(reference: String) {
        self.reference = reference
    }

    public var language: String { Self.languages[languageIndex] }

    public func value(_ field: FormField) -> String {
        switch field {
        case .text: return text
        case .language: return language
        case .speed: return speed
        case .temperature: return temperature
        case .reference: return reference
        case .promptText: return promptText
        case .output: return output
        }
    }

    public mutating func set(_ field: FormField, _ value: String) {
        switch field {
        case .text: text = value
        case .language: break
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

    /// The file the WAV goes to: the typed path, or `voicegate-YYYYmmdd-HHMMSS.wav` in `folder`.
    public func outputPath(folder: String, now: Date = Date()) -> String {
        let typed = output.trimmingCharacters(in: .whitespaces)
        if !typed.isEmpty { return (typed as NSString).expandingTildeInPath }
        let formatter = DateFormatter()
        formatter.dateFormat = "yyyyMMdd-HHmmss"
        formatter.locale = Locale(identifier: "en_US_POSIX")
        return folder + "/voicegate-" + formatter.string(from: now) + ".wav"
    }
}
