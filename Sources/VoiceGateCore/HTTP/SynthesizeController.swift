import Foundation
import HTTPTypes
import Hummingbird
import NIOCore

/// `POST {prefix}/voice/synthesize`: checks the key's limits, streams the upload to disk, validates, charges the
/// characters, queues in the key's lane, and streams the WAV back.
struct SynthesizeController {
    let references: ReferenceStore
    let limits: ReferenceLimits
    let service: SynthesisService
    let voices: VoiceLibrary
    let meter: UsageMeter
    /// `HISTORY_STORE_TEXT`.
    let keepText: Bool

    func addRoutes(to group: RouterGroup<GatewayRequestContext>) {
        group.post("voice/synthesize") { request, context in try await synthesize(request, context: context) }
    }

    func synthesize(_ request: Request, context: GatewayRequestContext) async throws -> Response {
        let boundary = try Self.boundary(request.headers[.contentType])
        guard let caller = context.caller else { throw GatewayError.unauthorized }
        let trace = SynthesisTrace(engine: service.engineName)
        context.exchange.trace = trace
        let permit = try await meter.admit(caller)
        do {
            let result = try await synthesize(request, context: context, boundary: boundary, permit: permit, trace: trace)
            return Self.response(for: result, engine: service.engineName, permit: permit)
        } catch {
            permit.release(failed: true)
            throw error
        }
    }

    private func synthesize(_ request: Request, context: GatewayRequestContext, boundary: String, permit: UsagePermit,
                            trace: SynthesisTrace) async throws -> SynthesisResult {
        try Self.refuseOversized(request, limits: limits)
        let reader = SynthesisUploadReader(boundary: boundary, store: references, limits: limits)
        var (fields, upload) = try await reader.read(request.body)
        let synthesis: SynthesisRequest
        var voiceName: String?
        if let name = fields.voice?.trimmingCharacters(in: .whitespaces), !name.isEmpty {
            if let upload {
                upload.discard()
                throw GatewayError.invalid("voice_and_reference", "send either voice (a saved voice) or reference_audio, not both")
            }
            let (voice, hold) = try await voices.resolve(name, for: permit.key)
            fields.promptText = fields.promptText ?? voice.promptText
            fields.promptLanguage = fields.promptLanguage ?? voice.promptLanguage
            synthesis = SynthesisRequest(try fields.validate(), voice: voice, in: voices.referenceDirectory, hold: hold)
            voiceName = voice.name
        } else {
            guard let upload else {
                throw GatewayError.invalid("missing_reference_audio", "reference_audio (a WAV, MP3, FLAC or OGG file) or voice (a saved voice) is required")
            }
            do {
                let validated = try fields.validate()
                synthesis = SynthesisRequest(validated, reference: try upload.stored(in: references, limits: limits))
            } catch {
                upload.discard()
                throw error
            }
        }
        trace.describe(synthesis, keepText: keepText, voice: voiceName)
        try await permit.charge(characters: synthesis.text.count)
        let service = self.service
        let lane = permit.key.name
        return try await context.cancellingOnClientClose { try await service.synthesize(synthesis, lane: lane, trace: trace) }
    }

    static func response(for result: SynthesisResult, engine: String, permit: UsagePermit? = nil) -> Response {
        var headers = headers(for: result, engine: engine)
        headers[.contentType] = "audio/wav"
        headers[.contentDisposition] = "attachment; filename=\"synthesized.wav\""
        let body = AudioBody.make(contentLength: result.contentLength, permit: permit, finish: { result.finish() },
                                  next: { try await result.next() })
        return Response(status: .ok, headers: headers, body: body)
    }

    /// What every synthesis answer says about its audio: rate, engine, duration when known, queue and upstream time.
    static func headers(for result: SynthesisResult, engine: String) -> HTTPFields {
        var headers = HTTPFields()
        headers[.xSampleRate] = String(result.sampleRate)
        headers[.xEngine] = engine
        if let duration = result.duration { headers[.xAudioDuration] = formatDuration(duration) }
        headers[.serverTiming] = "queue;dur=\(DecimalText.format(result.queueWait * 1000, places: 1)), "
            + "upstream;dur=\(DecimalText.format(result.upstreamTime * 1000, places: 1))"
        return headers
    }

    /// Up to microseconds, without trailing zeros: `2.5`, `1.234567`.
    static func formatDuration(_ seconds: Double) -> String {
        DecimalText.format(seconds, places: 6, trimmingZeros: true)
    }

    /// A form whose declared length cannot hold an allowed file is refused before a byte of it is read. Room is left
    /// for the text fields and multipart framing around the largest allowed file.
    static func refuseOversized(_ request: Request, limits: ReferenceLimits) throws {
        if let length = request.headers[.contentLength].flatMap(Int.init), length > limits.maxBytes + 256 * 1024 {
            throw GatewayError.invalid("file_too_large", "the request is \(length) bytes; reference_audio may be at most MAX_UPLOAD_SIZE (\(limits.maxBytes) bytes)",
                                       details: ["max_bytes": .int(limits.maxBytes)])
        }
    }

    static func boundary(_ contentType: String?) throws -> String {
        guard let contentType, let mediaType = MediaType(from: contentType), mediaType.isType(.multipartForm) else {
            throw GatewayError.invalid("invalid_content_type", "the body must be multipart/form-data with text and reference_audio fields",
                                       details: ["content_type": contentType.map { .string($0) } ?? .null])
        }
        guard let parameter = mediaType.parameter, parameter.name.lowercased() == "boundary" else {
            throw GatewayError.invalid("malformed_multipart", "the multipart/form-data content type has no boundary")
        }
        let boundary = parameter.value
        guard (1...70).contains(boundary.utf8.count), boundary.utf8.allSatisfy(isBoundaryCharacter), boundary.last != " " else {
            throw GatewayError.invalid("malformed_multipart",
                                       "the multipart boundary must be 1-70 characters of letters, digits and '()+_,-./:=? (RFC 2046)")
        }
        return boundary
    }

    /// RFC 2046 `bchars`. Nothing else may reach the parser: it matches delimiters as bytes, and holds no CR.
    private static func isBoundaryCharacter(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "0")...UInt8(ascii: "9"):
            return true
        default:
            return Array("'()+_,-./:=? ".utf8).contains(byte)
        }
    }
}
