import NIOCore

/// Reads a `multipart/form-data` synthesis body as it arrives: text fields into memory (bounded), the
/// `reference_audio` file to an `UploadSink` (straight to disk, or compared with an equal stored reference).
/// Nothing is held whole; an oversized file is refused mid-stream.
struct SynthesisUploadReader {
    static let fileField = "reference_audio"
    static let maxFieldBytes = 64 * 1024
    static let knownFields: Set<String> = ["text", "language", "speed", "temperature", "prompt_text", "prompt_language", "seed", "stream", "voice"]
    /// Fields only a voice's creation reads.
    static let voiceFields: Set<String> = ["name", "description", "shared", "gpt_weights", "sovits_weights"]

    let boundary: String
    let store: ReferenceStore
    let limits: ReferenceLimits

    /// The fields and the upload (nil when no file was sent): a reference already stored, or a new file the
    /// caller owns, still to check. On any failure nothing stays behind.
    func read<Body: AsyncSequence>(_ body: Body) async throws -> (SynthesisFields, UploadSink.Outcome?) where Body.Element == ByteBuffer {
        let (fields, _, upload) = try await readForm(body)
        return (fields, upload)
    }

    /// The same, with a voice's own fields (`name`, `description`, `shared`) beside.
    func readForm<Body: AsyncSequence>(_ body: Body) async throws -> (SynthesisFields, [String: String], UploadSink.Outcome?)
        where Body.Element == ByteBuffer {
        let parser = UploadBodyParser(boundary: boundary, store: store, limits: limits)
        do {
            for try await chunk in body {
                try parser.consume(chunk)
            }
            let (fields, upload) = try parser.finish()
            return (fields, parser.voiceFields, upload)
        } catch {
            parser.discard()
            throw error
        }
    }
}
