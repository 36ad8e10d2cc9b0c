import Crypto
import Synchronization

/// The references stored lately, found by how they begin, so that an upload of the same recording can be
/// compared with the stored file instead of being hashed and written again. Only a hint: an upload is
/// reused only when every one of its bytes equals the file's.
final class KnownReferences: Sendable {
    /// Bytes that make the key: past any WAV header and into the audio.
    static let keyLength = 16 * 1024
    static let capacity = 64

    struct Entry: Sendable {
        let reference: StoredReference
        let size: Int
    }

    private struct State {
        var entries: [SHA256.Digest: Entry] = [:]
        var order: [SHA256.Digest] = []
    }

    private let state = Mutex(State())

    static func key(_ head: [UInt8]) -> SHA256.Digest? {
        guard head.count >= keyLength else { return nil }
        return head.withUnsafeBytes { SHA256.hash(data: UnsafeRawBufferPointer(rebasing: $0.prefix(keyLength))) }
    }

    func remember(_ reference: StoredReference, head: [UInt8], size: Int) {
        guard let key = Self.key(head) else { return }
        state.withLock { s in
            if s.entries.updateValue(Entry(reference: reference, size: size), forKey: key) == nil {
                s.order.append(key)
                if s.order.count > Self.capacity { s.entries[s.order.removeFirst()] = nil }
            }
        }
    }

    /// The file is gone (the janitor removed it).
    func forget(_ fileName: String) {
        state.withLock { s in
            guard let key = s.entries.first(where: { $0.value.reference.fileName == fileName })?.key else { return }
            s.entries[key] = nil
            s.order.removeAll { $0 == key }
        }
    }

    func candidate(for head: [UInt8]) -> Entry? {
        guard let key = Self.key(head) else { return nil }
        return state.withLock { $0.entries[key] }
    }
}
