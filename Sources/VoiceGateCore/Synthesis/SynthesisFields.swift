import Foundation

/// The raw form fields of a synthesis, validated into typed values with the seed's rules.
public struct SynthesisFields: Sendable {
    public static let maxTextLength = 5000
    public static let maxPromptLength = 1000
    public static let defaultTemperature = 0.7
    /// GPT-SoVITS's `speed_factor`, as the seed takes it.
    public static let speedRange = 0.5...2.0

    public var text: String?
    public var language: String?
    public var speed: String?
    public var temperature: String?
    public var promptText: String?
    public var promptLanguage: String?
    public var seed: String?
    public var stream: String?
    /// A saved voice's name, instead of `reference_audio`.
    public var voice: String?

    public init() {}

    public struct Validated: Sendable {
        public var text: String
        public var language: String
        public var speed: Double
        public var temperature: Double
        public var promptText: String
        public var promptLanguage: String
        public var seed: Int
        public var stream: Bool
    }

    public func validate() throws -> Validated {
        guard let text, !text.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty else {
            throw GatewayError.invalid("empty_text", "text is required and must not be empty or only whitespace")
        }
        guard text.count <= Self.maxTextLength else {
            throw GatewayError.invalid("text_too_long", "text is \(text.count) characters; at most \(Self.maxTextLength) are allowed",
                                       details: ["length": .int(text.count), "max": .int(Self.maxTextLength)])
        }
        let language = try Self.language(self.language, field: "language") ?? "auto"
        let promptLanguage = try Self.language(self.promptLanguage, field: "prompt_language") ?? language
        let speed = try Self.number(self.speed, field: "speed", code: "invalid_speed", range: Self.speedRange, default: 1.0)
        let temperature = try Self.number(self.temperature, field: "temperature", code: "invalid_temperature", range: 0.1...1.0, default: Self.defaultTemperature)
        let promptText = promptText?.trimmingCharacters(in: .whitespacesAndNewlines) ?? ""
        guard promptText.count <= Self.maxPromptLength else {
            throw GatewayError.invalid("prompt_text_too_long", "prompt_text is \(promptText.count) characters; at most \(Self.maxPromptLength) are allowed")
        }
        var seed = -1
        if let raw = self.seed?.trimmingCharacters(in: .whitespaces), !raw.isEmpty {
            guard let n = Int(raw), n >= -1, n <= Int(UInt32.max) else {
                throw GatewayError.invalid("invalid_seed", "seed must be a whole number from -1 (random) to \(UInt32.max): \(raw)")
            }
            seed = n
        }
        var stream = false
        if let raw = self.stream?.trimmingCharacters(in: .whitespaces).lowercased(), !raw.isEmpty {
            switch raw {
            case "true", "1", "yes", "on": stream = true
            case "false", "0", "no", "off": stream = false
            default: throw GatewayError.invalid("invalid_stream", "stream must be true or false: \(raw)")
            }
        }
        return Validated(text: text, language: language, speed: speed, temperature: temperature, promptText: promptText,
                         promptLanguage: promptLanguage, seed: seed, stream: stream)
    }

    static func language(_ raw: String?, field: String) throws -> String? {
        guard let raw, !raw.trimmingCharacters(in: .whitespaces).isEmpty else { return nil }
        guard let code = Language.normalize(raw) else {
            throw GatewayError.invalid("unsupported_language", "\(field) '\(raw)' is not supported; use one of \(Language.sovits.joined(separator: ", "))",
                                       details: ["supported": .array(Language.sovits.map { .string($0) })])
        }
        return code
    }

    private static func number(_ raw: String?, field: String, code: String, range: ClosedRange<Double>, default value: Double) throws -> Double {
        guard let raw = raw?.trimmingCharacters(in: .whitespaces), !raw.isEmpty else { return value }
        guard let n = Double(raw), n.isFinite else {
            throw GatewayError.invalid(code, "\(field) must be a number from \(range.lowerBound) to \(range.upperBound): '\(raw)'")
        }
        guard range.contains(n) else {
            throw GatewayError.invalid(code, "\(field) \(raw) is out of range \(range.lowerBound)-\(range.upperBound)",
                                       details: ["min": .number(range.lowerBound), "max": .number(range.upperBound)])
        }
        return n
    }
}
