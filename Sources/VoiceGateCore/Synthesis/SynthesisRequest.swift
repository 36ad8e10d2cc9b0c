/// A synthesis that passed validation, with its reference stored on disk. Same for HTTP and the console.
/// Its settings read as its own properties (`request.text`, `request.speed`, ...).
@dynamicMemberLookup
public struct SynthesisRequest: Sendable {
    public var settings: SynthesisFields.Validated
    public var reference: StoredReference
    /// Keeps a saved voice's file while the request needs it (a voice deleted meanwhile is removed afterwards).
    public var hold: ReferenceHold?
    /// The saved voice it speaks with, if any (the workers view shows it).
    public var voice: String?
    /// Model weights the worker must have loaded: the saved voice's, if it names them.
    public var weights: ModelWeights?

    public init(_ settings: SynthesisFields.Validated, reference: StoredReference, hold: ReferenceHold? = nil) {
        self.settings = settings
        self.reference = reference
        self.hold = hold
    }

    /// Speaking with a saved voice: its file, held while the request needs it, and its weights.
    public init(_ settings: SynthesisFields.Validated, voice: VoiceRecord, in folder: String, hold: ReferenceHold?) {
        self.init(settings, reference: voice.reference(in: folder), hold: hold)
        self.voice = voice.name
        self.weights = voice.weights
    }

    public subscript<T>(dynamicMember keyPath: KeyPath<SynthesisFields.Validated, T>) -> T {
        settings[keyPath: keyPath]
    }
}

/// A reference recording kept in the reference folder under its content hash.
public struct StoredReference: Sendable, Equatable {
    /// File name inside the reference folder: `<sha256>.<ext>`, or `voices/<sha256>.<ext>` for a saved voice.
    public var fileName: String
    /// Absolute path on this host.
    public var localPath: String
    public var info: AudioInfo

    /// The SHA-256 the file is named after.
    public var contentHash: String { String(fileName.split(separator: "/").last?.prefix { $0 != "." } ?? "") }
}
