import Foundation
import HTTPTypes
import Hummingbird
import NIOCore

/// `POST {prefix}/voice/synthesize`: streams the upload to disk, validates, queues, and streams the WAV back.
struct SynthesizeController {
    let gateway: Gateway

    func addRoutes(to group: RouterGroup<GatewayRequestContext>) {
        group.post("voice/synthesize") { request, context in try await synthesize(request, context: context) }
    }

    func synthesize(_ request: Request, context: GatewayRequestContext) async throws -> Response {
        let boundary = try Self.boundary(request.headers[.contentType])
        let limits = gateway.limits
        // Room for the text fields and multipart framing around the largest allowed file.
        if let length = request.headers[.contentLength].flatMap(Int.init), length > limits.maxBytes + 256 * 1024 {
            throw GatewayError.invalid("file_too_large", "the request is \(length) bytes; reference_audio may be at most MAX_UPLOAD_SIZE (\(limits.maxBytes) bytes)",
                                       details: ["max_bytes": .int(limits.maxBytes)])
        }
        let reader = SynthesisUploadReader(boundary: boundary, store: gateway.store, limits: limits)
        let (fields, upload) = try await reader.read(request.body)
        guard let upload else {
            throw GatewayError.invalid("missing_reference_audio", "reference_audio (a WAV, MP3, FLAC or OGG file) is required")
        }
        let synthesis: SynthesisRequest
        do {
            let validated = try fields.validate()
            synthesis = SynthesisRequest(validated, reference: try upload.stored(in: gateway.store, limits: limits))
        } catch {
            upload.discard()
            throw error
        }
        let service = gateway.service
        let result = try await context.cancellingOnClientClose { try await service.synthesize(synthesis) }
        return Self.response(for: result, engine: gateway.service.engine.name)
    }

    static func response(for result: SynthesisResult, engine: String) -> Response {
        var headers = HTTPFields()
        headers[.contentType] = "audio/wav"
        headers[.contentDisposition] = "attachment; filename=\"synthesized.wav\""
        headers[.xSampleRate] = String(result.sampleRate)
        headers[.xEngine] = engine
        if let duration = result.duration { headers[.xAudioDuration] = formatDuration(duration) }
        headers[.serverTiming] = "queue;dur=\(DecimalText.format(result.queueWait * 1000, places: 1)), "
            + "upstream;dur=\(DecimalText.format(result.upstreamTime * 1000, places: 1))"
        let body = ResponseBody(contentLength: result.contentLength) { writer in
            defer { result.finish() }
            while let chunk = try await result.next() {
                try await writer.write(chunk)
            }
            try await writer.finish(nil)
        }
        return Response(status: .ok, headers: headers, body: body)
    }

    /// Up to microseconds, without trailing zeros: `2.5`, `1.234567`.
    static func formatDuration(_ seconds: Double) -> String {
        DecimalText.format(seconds, places: 6, trimmingZeros: true)
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
