import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import NIOPosix

/// Saved voices under the prefix: `POST/GET voices`, `GET/PATCH/DELETE voices/{name}`, `GET voices/{name}/audio`.
/// A key sees its own voices and the shared ones (an admin all); only an admin shares.
struct VoicesController {
    let voices: VoiceLibrary
    let limits: ReferenceLimits

    struct VoiceJSON: ResponseEncodable {
        let name: String
        let owner: String
        let shared: Bool
        let description: String
        let prompt_text: String
        let prompt_language: String
        let format: String
        let duration_seconds: Double
        let sample_rate: Int
        let reference_sha256: String
        let aliases: [String]
        let created_at: String
        let gpt_weights: String?
        let sovits_weights: String?
    }

    struct VoiceList: ResponseEncodable {
        let voices: [VoiceJSON]
    }

    func addRoutes(to group: RouterGroup<GatewayRequestContext>) {
        group.post("voices") { request, context -> EditedResponse<VoiceJSON> in
            let voice = try await create(request, context: context)
            return EditedResponse(status: .created, headers: [.location: "voices/\(voice.name)"], response: json(voice))
        }
        group.get("voices") { _, context -> VoiceList in
            guard let caller = context.caller else { throw GatewayError.unauthorized }
            let formatter = ISO8601DateFormatter()
            return VoiceList(voices: try await voices.usable(by: caller).map { json($0, formatter) })
        }
        group.get("voices/:name") { _, context -> VoiceJSON in
            guard let caller = context.caller else { throw GatewayError.unauthorized }
            return json(try await voices.voice(named: try Self.name(context), for: caller))
        }
        group.patch("voices/:name") { request, context -> VoiceJSON in
            let caller = try context.requireAdmin()
            let body = try await JSONBody.read(request)
            try body.rejectUnknown(allowed: ["shared"])
            guard let shared = try body.bool("shared") else {
                throw GatewayError.invalid("missing_field", "send {\"shared\": true} or {\"shared\": false}", param: "shared")
            }
            return json(try await voices.setShared(try Self.name(context), shared: shared, by: caller))
        }
        group.delete("voices/:name") { _, context -> Response in
            guard let caller = context.caller else { throw GatewayError.unauthorized }
            try await voices.delete(try Self.name(context), by: caller)
            return Response(status: .noContent)
        }
        group.get("voices/:name/audio") { _, context -> Response in
            guard let caller = context.caller else { throw GatewayError.unauthorized }
            let voice = try await voices.voice(named: try Self.name(context), for: caller)
            // The path is the store's (written by this gateway from a content hash), never the request's.
            let path = voices.referenceDirectory + "/" + voice.fileName
            guard let data = try? await NIOThreadPool.singleton.runIfActive({ try Data(contentsOf: URL(fileURLWithPath: path)) }) else {
                throw voices.fileMissing(voice)
            }
            var headers = HTTPFields()
            headers[.contentType] = voice.info.format.contentType
            headers[.contentDisposition] = "attachment; filename=\"\(voice.name).\(voice.info.format.rawValue)\""
            return Response(status: .ok, headers: headers, body: .init(byteBuffer: ByteBuffer(data: data)))
        }
    }

    /// Reads the form (the recording streams to disk), checks every field before the recording is kept, then saves.
    private func create(_ request: Request, context: GatewayRequestContext) async throws -> VoiceRecord {
        guard let caller = context.caller else { throw GatewayError.unauthorized }
        let boundary = try SynthesizeController.boundary(request.headers[.contentType])
        try SynthesizeController.refuseOversized(request, limits: limits)
        let reader = SynthesisUploadReader(boundary: boundary, store: voices.files, limits: limits)
        let (fields, other, upload) = try await reader.readForm(request.body)
        guard let upload else {
            throw GatewayError.invalid("missing_reference_audio", "reference_audio (a WAV, MP3, FLAC or OGG file of the voice) is required")
        }
        let draft: VoiceLibrary.Draft
        let reference: StoredReference
        do {
            draft = try VoiceLibrary.draft(name: other["name"], promptText: fields.promptText, promptLanguage: fields.promptLanguage,
                                           description: other["description"], shared: other["shared"],
                                           gptWeights: other["gpt_weights"], sovitsWeights: other["sovits_weights"], by: caller)
            reference = try upload.stored(in: voices.files, limits: limits)
        } catch {
            upload.discard()
            throw error
        }
        return try await voices.create(draft, reference: reference, owner: caller)
    }

    private static func name(_ context: GatewayRequestContext) throws -> String {
        guard let name = context.parameters.get("name"), VoiceRecord.isValidName(name) else {
            throw GatewayError(404, "voice_not_found", "a voice name is 1-64 letters, digits, _ or -")
        }
        return name
    }

    private func json(_ voice: VoiceRecord, _ formatter: ISO8601DateFormatter = ISO8601DateFormatter()) -> VoiceJSON {
        VoiceJSON(name: voice.name, owner: voice.owner, shared: voice.shared, description: voice.description,
                  prompt_text: voice.promptText, prompt_language: voice.promptLanguage, format: voice.info.format.rawValue,
                  duration_seconds: (voice.info.duration * 1000).rounded() / 1000, sample_rate: voice.info.sampleRate,
                  reference_sha256: voice.contentHash, aliases: voices.aliases.aliases(of: voice.name),
                  created_at: formatter.string(from: voice.createdAt), gpt_weights: voice.weights?.gpt, sovits_weights: voice.weights?.sovits)
    }
}
