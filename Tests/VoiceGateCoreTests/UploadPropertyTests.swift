import Foundation
import NIOCore
import PropertyBased
import Testing
@testable import VoiceGateCore

/// What must hold however a client's upload arrives: generated boundaries, fields and file bytes full of near-misses
/// of the delimiter (only CR, LF, '-' and the boundary's own letters), cut into generated chunk sizes.
@Suite("The upload reader's properties at any chunking", .serialized)
struct UploadPropertyTests {
    static let letters: [Character] = ["a", "b"]
    static let boundaries = Gen.element(of: letters).map { $0! }.string(of: 1...6)
    static let nearMisses = Gen.element(of: [UInt8]([13, 10, 45, 97, 98, 0, 255])).map { $0! }.array(of: 0...3000)
    static let chunkSizes = Gen.int(in: 1...3000).array(of: 1...6)
    static let texts = Gen.letterOrNumber.string(of: 1...40)

    static let store: ReferenceStore = {
        let store = ReferenceStore(directory: NSTemporaryDirectory() + "voicegate-property-" + UUID().uuidString)
        _ = store.prepare()
        return store
    }()
    static let limits = ReferenceLimits(config: try! GatewayConfig.from([:]))

    /// A 4 s WAV (2 kHz, 8-bit: small, so a hundred cases take a moment) whose samples are `noise`, repeated: a
    /// reference the store accepts, with the delimiter's near-misses inside.
    static func reference(_ noise: [UInt8]) -> [UInt8] {
        let samples = noise.isEmpty ? [UInt8](repeating: 1, count: 8000) : (0..<8000).map { noise[$0 % noise.count] }
        return [UInt8](WAVHeader.canonical(sampleRate: 2000, bitsPerSample: 8, dataSize: samples.count)) + samples
    }

    static func body(boundary: String, text: String, file: [UInt8], language: String) -> [UInt8] {
        var form = Multipart()
        form.boundary = boundary
        form.field("text", text)
        form.field("language", language)
        form.file("reference_audio", Data(file))
        return [UInt8](form.body)
    }

    /// Feeds the body in chunks of the given sizes, in turn; the fields and upload, or the gateway's error.
    static func parse(_ body: [UInt8], boundary: String, chunks: [Int]) -> Result<(SynthesisFields, UploadSink.Outcome?), GatewayError> {
        let parser = UploadBodyParser(boundary: boundary, store: store, limits: limits)
        do {
            try parser.consume(body, inPiecesOf: chunks)
            return .success(try parser.finish())
        } catch {
            parser.discard()
            return .failure(GatewayError.from(error))
        }
    }

    static func partialFiles() -> [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: store.incomingDirectory)) ?? []).filter { $0.hasSuffix(".part") }
    }

    @Test func theStoredReferenceIsByteExactAndTheFieldsTheSameAtAnyChunking() async {
        await propertyCheck(count: 60, input: Self.boundaries, Self.nearMisses, Self.chunkSizes, Self.texts) { boundary, noise, chunks, text in
            await Task.yield() // each case is synchronous work: let the suite's other tests run between them
            let file = Self.reference(noise)
            // A client picks a boundary its data does not hold; such a pair is no upload at all.
            guard !Self.contains(file, Array("\r\n--\(boundary)".utf8)) else { return }
            let body = Self.body(boundary: boundary, text: text, file: file, language: "en")
            guard case .success(let (fields, outcome)) = Self.parse(body, boundary: boundary, chunks: chunks), let outcome else {
                Issue.record("the body was refused")
                return
            }
            #expect(fields.text == text && fields.language == "en")
            do {
                let stored = try outcome.stored(in: Self.store, limits: Self.limits)
                #expect(FileManager.default.contents(atPath: stored.localPath) == Data(file))
            } catch {
                Issue.record("the reference was not stored: \(error)")
            }
            #expect(Self.partialFiles().isEmpty)
        }
    }

    @Test func aTruncatedBodyIsAlwaysAClear400AndLeavesNothing() async {
        await propertyCheck(count: 60, input: Self.boundaries, Self.nearMisses, Self.chunkSizes, Gen.double(in: 0...0.999)) { boundary, noise, chunks, cut in
            await Task.yield()
            let file = Self.reference(noise)
            guard !Self.contains(file, Array("\r\n--\(boundary)".utf8)) else { return }
            let body = Self.body(boundary: boundary, text: "Hello", file: file, language: "en")
            // Anything short of the closing delimiter's last hyphen is cut.
            let kept = Int(cut * Double(body.count - 3))
            guard case .failure(let error) = Self.parse(Array(body.prefix(kept)), boundary: boundary, chunks: chunks) else {
                Issue.record("a body cut at \(kept) of \(body.count) bytes was accepted")
                return
            }
            #expect(error.statusCode == 400)
            #expect(["malformed_multipart", "missing_reference_audio"].contains(error.code), "\(error.code): \(error.message)")
            #expect(Self.partialFiles().isEmpty)
        }
    }

    static func contains(_ haystack: [UInt8], _ needle: [UInt8]) -> Bool {
        guard haystack.count >= needle.count else { return false }
        return (0...(haystack.count - needle.count)).contains { haystack[$0..<$0 + needle.count].elementsEqual(needle) }
    }
}
