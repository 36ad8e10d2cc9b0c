/// A synthesis that passed validation, with its reference stored on disk. Same for HTTP and the console.
public struct SynthesisRequest: Sendable {
    public var text: String
    public var language: String
    public var speed: Double
    public var temperature: Double
    public var promptText: String
    public var promptLanguage: String
    public var seed: Int
    public var stream: Bool
    public var reference: StoredReference

    public init(text: String, language: String = "auto", speed: Double = 1.0, temperature: Double = 0.7, promptText: String = "",
                promptLanguage: String? = nil, seed: Int = -1, stream: Bool = false, reference: StoredReference) {
        self.text = text
        self.language = language
        self.speed = speed
        self.temperature = temperature
        self.promptText = promptText
        self.promptLanguage = promptLanguage ?? language
        self.seed = seed
        self.stream = stream
        self.reference = reference
    }
}

/// A reference recording kept in the reference folder under its content hash.
public struct StoredReference: Sendable, Equatable {
    /// File name inside the reference folder: `<sha256>.<ext>`.
    public var fileName: String
    /// Absolute path on this host.
    public var localPath: String
    public var info: AudioInfo
}
