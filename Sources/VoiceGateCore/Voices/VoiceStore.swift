/// Saved voices as the store keeps them; names are unique across all keys.
public protocol VoiceStore: Sendable {
    func voices() async throws -> [VoiceRecord]
    func voice(named name: String) async throws -> VoiceRecord?
    /// Throws `StoreError.exists` when the name is taken.
    func insertVoice(_ voice: VoiceRecord) async throws
    /// Sets whether the voice is shared; false when there is no such voice.
    func setVoiceShared(_ name: String, shared: Bool) async throws -> Bool
    /// Removes the row and returns it; nil when there was none.
    func deleteVoice(named name: String) async throws -> VoiceRecord?
    /// How many voices keep this recording.
    func voiceCount(usingFile fileName: String) async throws -> Int
}
