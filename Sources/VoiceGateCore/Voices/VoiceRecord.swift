import Foundation

/// A saved voice: a checked reference recording (kept under its content hash) with its transcript and language.
public struct VoiceRecord: Sendable, Equatable {
    public var name: String
    /// The key that created it.
    public var owner: String
    /// Usable by every key, not only its owner (set by an admin).
    public var shared: Bool
    /// The recording, as a name inside the reference folder (`voices/<sha256>.<ext>`).
    public var fileName: String
    public var info: AudioInfo
    public var promptText: String
    public var promptLanguage: String
    public var description: String
    public var createdAt: Date
    /// The GPT and SoVITS weights it is spoken with (paths on the workers), if it names them.
    public var weights: ModelWeights?

    public init(name: String, owner: String, shared: Bool, fileName: String, info: AudioInfo, promptText: String,
                promptLanguage: String, description: String, createdAt: Date, weights: ModelWeights? = nil) {
        self.weights = weights
        self.name = name
        self.owner = owner
        self.shared = shared
        self.fileName = fileName
        self.info = info
        self.promptText = promptText
        self.promptLanguage = promptLanguage
        self.description = description
        self.createdAt = createdAt
    }

    public static let maxNameLength = 64
    public static let maxDescriptionLength = 500

    /// `[A-Za-z0-9_-]{1,64}`: a name is only ever a key in the store, never part of a path.
    public static func isValidName(_ name: String) -> Bool {
        (1...maxNameLength).contains(name.utf8.count) && name.utf8.allSatisfy { byte in
            switch byte {
            case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "0")...UInt8(ascii: "9"),
                 UInt8(ascii: "_"), UInt8(ascii: "-"): return true
            default: return false
            }
        }
    }

    /// Admins use every voice; other keys their own and the shared ones.
    public func isUsable(by key: KeyRecord) -> Bool {
        key.role == .admin || shared || owner == key.name
    }

    public var contentHash: String { reference(in: "").contentHash }

    /// The recording as a synthesis refers to it.
    public func reference(in folder: String) -> StoredReference {
        StoredReference(fileName: fileName, localPath: folder + "/" + fileName, info: info)
    }
}
