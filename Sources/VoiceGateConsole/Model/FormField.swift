/// The fields of the test-synthesis form, in focus order.
public enum FormField: Int, CaseIterable, Sendable {
    case text, language, speed, temperature, voice, reference, promptText, format, output

    public var label: String {
        switch self {
        case .text: return "Text"
        case .language: return "Language"
        case .speed: return "Speed"
        case .temperature: return "Temperature"
        case .voice: return "Voice"
        case .reference: return "Reference"
        case .promptText: return "Prompt text"
        case .format: return "Format"
        case .output: return "Output"
        }
    }

    /// Fields that take typed text (a `q` typed there is text, not quit).
    public var isTextEntry: Bool { !isSelector }

    /// Fields whose value Left/Right choose from a list.
    public var isSelector: Bool { [.language, .voice, .format].contains(self) }

    /// Text fields with a cursor that Left/Right move (in speed and temperature they step the value).
    public var hasCursor: Bool { [.text, .reference, .promptText, .output].contains(self) }
}
