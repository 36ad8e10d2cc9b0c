import NIOCore
#if canImport(Glibc)
import Glibc
#endif

/// Where an upload's file bytes go. When its first bytes match a reference stored lately, the rest is
/// compared with that file as it arrives, and an equal upload is neither written nor hashed again. At the
/// first difference, or with nothing to compare with, the bytes go to a new file (hashed on the way), the
/// matched start copied from the stored one. Nothing is held whole: at most the key's bytes wait in memory.
final class UploadSink {
    /// What was received: a reference already stored, or a new file still to check and store.
    enum Outcome {
        case known(StoredReference)
        case new(IncomingFile)

        /// The stored reference: as it is, or the new file checked and committed.
        func stored(in store: ReferenceStore, limits: ReferenceLimits) throws -> StoredReference {
            switch self {
            case .known(let reference): return reference
            case .new(let file): return try store.accept(file, limits: limits)
            }
        }

        func discard() {
            if case .new(let file) = self { file.discard() }
        }
    }

    private struct Match {
        let entry: KnownReferences.Entry
        let fd: Int32
        var matched = 0
    }

    private enum Mode {
        case collecting([UInt8])
        case matching(Match)
        case writing(IncomingFile)
        case done
    }

    private let store: ReferenceStore
    private var mode = Mode.collecting([])
    /// For reading the stored file back; only an upload that has a candidate needs it.
    private lazy var scratch = [UInt8](repeating: 0, count: 64 * 1024)

    init(store: ReferenceStore) {
        self.store = store
    }

    func write(_ bytes: ByteBuffer) throws {
        switch mode {
        case .writing(let file):
            try file.write(bytes)
        case .matching(var match):
            if try compare(bytes, &match) { mode = .matching(match) }
        case .collecting(var head):
            head += bytes.readableBytesView
            if head.count < KnownReferences.keyLength {
                mode = .collecting(head)
            } else {
                try decide(head)
            }
        case .done:
            preconditionFailure("write after finish")
        }
    }

    /// The outcome; nil when no file bytes came at all. When it throws, `discard()` still cleans up.
    func finish() throws -> Outcome? {
        let outcome: Outcome?
        switch mode {
        case .collecting(let head) where head.isEmpty:
            outcome = nil
        case .collecting(let head):
            let file = try store.makeIncoming()
            mode = .writing(file)
            try file.write(ByteBuffer(bytes: head))
            outcome = .new(file)
        case .matching(let match) where match.matched == match.entry.size:
            close(match.fd)
            outcome = .known(match.entry.reference)
        case .matching(let match):
            // The upload is a shorter start of the stored file.
            outcome = .new(try startFile(from: match))
        case .writing(let file):
            outcome = .new(file)
        case .done:
            outcome = nil
        }
        mode = .done
        return outcome
    }

    /// Deletes whatever was written; for uploads that fail.
    func discard() {
        switch mode {
        case .matching(let match): close(match.fd)
        case .writing(let file): file.discard()
        case .collecting, .done: break
        }
        mode = .done
    }

    private func decide(_ head: [UInt8]) throws {
        if let entry = store.known.candidate(for: head) {
            let fd = open(entry.reference.localPath, O_RDONLY | O_CLOEXEC)
            if fd >= 0 {
                futimens(fd, nil) // used now: the janitor keeps what was used lately
                var match = Match(entry: entry, fd: fd)
                if try compare(ByteBuffer(bytes: head), &match) { mode = .matching(match) }
                return
            }
        }
        let file = try store.makeIncoming()
        mode = .writing(file)
        try file.write(ByteBuffer(bytes: head))
    }

    /// True while the bytes equal the stored file's at the same place; at the first difference, switches to
    /// writing a new file (with the matched start) and writes `bytes` there.
    private func compare(_ bytes: ByteBuffer, _ match: inout Match) throws -> Bool {
        let equal = match.matched + bytes.readableBytes <= match.entry.size && bytes.withUnsafeReadableBytes { raw in
            scratch.withUnsafeMutableBytes { buffer in
                var offset = 0
                while offset < raw.count {
                    let n = min(buffer.count, raw.count - offset)
                    guard pread(match.fd, buffer.baseAddress!, n, off_t(match.matched + offset)) == n,
                          memcmp(buffer.baseAddress!, raw.baseAddress! + offset, n) == 0 else { return false }
                    offset += n
                }
                return true
            }
        }
        if equal {
            match.matched += bytes.readableBytes
            return true
        }
        let file = try startFile(from: match)
        try file.write(bytes)
        return false
    }

    /// A new file holding the stored file's first `match.matched` bytes (equal to the upload's so far).
    /// The stored file's descriptor is closed here whatever happens; once created, the new file is the mode's,
    /// so a failure part-way leaves it for `discard()`.
    private func startFile(from match: Match) throws -> IncomingFile {
        mode = .done
        defer { close(match.fd) }
        let file = try store.makeIncoming()
        mode = .writing(file)
        var offset = 0
        while offset < match.matched {
            let n = min(scratch.count, match.matched - offset)
            let got = scratch.withUnsafeMutableBytes { pread(match.fd, $0.baseAddress!, n, off_t(offset)) }
            guard got == n else {
                throw GatewayError(500, "storage_error", "cannot read the stored reference \(match.entry.reference.fileName) back")
            }
            try file.write(ByteBuffer(bytes: scratch[0..<n]))
            offset += n
        }
        return file
    }
}
