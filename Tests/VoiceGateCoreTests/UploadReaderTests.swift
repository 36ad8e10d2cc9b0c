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
        let (fields, incoming) = try await reader.read(Chunks(data: form.body, size: chunkSize))
        let upload = try #require(incoming)
        _ = upload.finish()
        defer { upload.discard() }
        #expect(fields.text == "Hello\r\n--not a boundary")
        #expect(fields.language == "en")
        #expect(try Data(contentsOf: URL(fileURLWithPath: upload.path)) == file)
    }
}
