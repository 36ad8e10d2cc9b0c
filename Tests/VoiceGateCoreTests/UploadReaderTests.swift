import Crypto
import Foundation
import NIOCore
import Testing
@testable import VoiceGateCore

@Suite("SynthesisUploadReader keeps every byte, whatever the chunking")
struct UploadReaderTests {
    /// A file full of near-misses of the delimiter: CR, CRLF, CRLF-- and CRLF--<partial boundary>.
    static func trickyFile(boundary: String) -> Data {
        var bytes: [UInt8] = []
        let delimiter = Array("\r\n--\(boundary)".utf8)
        for i in 0..<4000 {
            bytes += [UInt8(i & 0xFF), 13, UInt8(i >> 3 & 0xFF)]
            if i % 7 == 0 { bytes += Array(delimiter.prefix(i % (delimiter.count - 1) + 1)) + [0x41] }
        }
        return Data(bytes)
    }

    struct Chunks: AsyncSequence, Sendable {
        typealias Element = ByteBuffer
        let data: Data
        let size: Int
        struct AsyncIterator: AsyncIteratorProtocol {
            let data: Data
            let size: Int
            var offset = 0
            mutating func next() async -> ByteBuffer? {
                guard offset < data.count else { return nil }
                let end = Swift.min(data.count, offset + size)
                defer { offset = end }
                return ByteBuffer(bytes: data[offset..<end])
            }
        }
        func makeAsyncIterator() -> AsyncIterator { AsyncIterator(data: data, size: size) }
    }

    @Test(arguments: Array(1...24) + [45, 46, 47, 64, 127, 1000, 4093, 4096, 65536], [false, true])
    func storesTheFileExactly(chunkSize: Int, fileLast: Bool) async throws {
        let dir = NSTemporaryDirectory() + "vg-upload-" + UUID().uuidString
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let store = ReferenceStore(directory: dir)
        #expect(store.prepare() == nil)
        var form = Multipart()
        form.field("text", "Hello\r\n--not a boundary")
        let file = Self.trickyFile(boundary: form.boundary)
        if fileLast {
            form.field("language", "en")
            form.file("reference_audio", file)
        } else {
            form.file("reference_audio", file)
            form.field("language", "en")
        }
        var limits = ReferenceLimits(config: GatewayConfig())
        limits.maxBytes = 1 << 20
        let reader = SynthesisUploadReader(boundary: form.boundary, store: store, limits: limits)
        let (fields, outcome) = try await reader.read(Chunks(data: form.body, size: chunkSize))
        guard case .new(let upload) = try #require(outcome) else {
            Issue.record("an empty store knows no reference")
            return
        }
        _ = upload.finish()
        defer { upload.discard() }
        #expect(fields.text == "Hello\r\n--not a boundary")
        #expect(fields.language == "en")
        #expect(try Data(contentsOf: URL(fileURLWithPath: upload.path)) == file)
    }

    /// Uploads `audio` as the only part, in chunks of `chunkSize`.
    static func upload(_ audio: Data, to store: ReferenceStore, chunkSize: Int) async throws -> UploadSink.Outcome {
        var form = Multipart()
        form.file("reference_audio", audio)
        let reader = SynthesisUploadReader(boundary: form.boundary, store: store, limits: ReferenceLimits(config: GatewayConfig()))
        return try #require(try await reader.read(Chunks(data: form.body, size: chunkSize)).1)
    }

    @Test(arguments: [7, 1000, 4096, 65536])
    func anEqualUploadIsComparedNotStoredAgainAndAnyDifferenceIsStoredWhole(chunkSize: Int) async throws {
        let dir = NSTemporaryDirectory() + "vg-known-" + UUID().uuidString
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let store = ReferenceStore(directory: dir)
        #expect(store.prepare() == nil)
        let limits = ReferenceLimits(config: GatewayConfig())
        let original = TestAudio.wav(seconds: 4)
        let first = try await Self.upload(original, to: store, chunkSize: chunkSize)
        guard case .new = first else { Issue.record("the first upload is new"); return }
        let stored = try first.stored(in: store, limits: limits)

        // The same bytes again: the stored reference, nothing written (no .part file).
        let again = try await Self.upload(original, to: store, chunkSize: chunkSize)
        guard case .known(let reused) = again else { Issue.record("an equal upload is known"); return }
        #expect(reused == stored)
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir + "/.incoming").isEmpty)

        // Any difference, wherever it is, makes a new file holding exactly the new bytes, under their own hash.
        var variants: [(String, Data)] = []
        for position in [KnownReferences.keyLength, KnownReferences.keyLength + 1, original.count / 2, original.count - 1] {
            var changed = original
            changed[position] ^= 0x01
            variants.append(("byte \(position) changed", changed))
        }
        variants.append(("one byte longer", original + Data([0])))
        variants.append(("one byte shorter", original.dropLast()))
        for (name, variant) in variants {
            let outcome = try await Self.upload(variant, to: store, chunkSize: chunkSize)
            guard case .new(let file) = outcome else { Issue.record("\(name): taken for the stored reference"); continue }
            let reference = try outcome.stored(in: store, limits: limits)
            let kept = try Data(contentsOf: URL(fileURLWithPath: reference.localPath))
            #expect(kept == variant, "\(name)")
            #expect(reference.fileName.hasPrefix(SHA256.hash(data: variant).map { String(format: "%02x", $0) }.joined()), "\(name)")
            #expect(!FileManager.default.fileExists(atPath: file.path), "\(name)")
        }
        // The first reference is untouched.
        #expect(try Data(contentsOf: URL(fileURLWithPath: stored.localPath)) == original)
    }
}
