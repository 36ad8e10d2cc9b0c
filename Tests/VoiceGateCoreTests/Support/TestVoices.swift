import Foundation
@testable import VoiceGateCore

extension TestGateway {
    /// A saved voice made through the API with a 4 s tone; returns the answer.
    @discardableResult
    func makeVoice(_ name: String, key: String? = TestGateway.apiKey, promptText: String = "A tone that stands for a voice.",
                   extra: [String: String] = [:], reference: Data = TestAudio.wav(seconds: 4)) async throws -> TestResponse {
        var form = Multipart()
        form.field("name", name)
        form.field("prompt_text", promptText)
        for (k, v) in extra.sorted(by: { $0.key < $1.key }) { form.field(k, v) }
        form.file("reference_audio", reference)
        return try await request(.POST, "/api/v1/voices", headers: [("Content-Type", form.contentType)], body: form.body, key: key)
    }

    /// `POST /v1/audio/speech` with a JSON body, the key as a bearer token (as the official client sends it).
    func speech(_ body: [String: Any], bearer: String? = TestGateway.apiKey, headers: [(String, String)] = []) async throws -> TestResponse {
        var all = [("Content-Type", "application/json")] + headers
        if let bearer { all.append(("Authorization", "Bearer \(bearer)")) }
        return try await request(.POST, "/v1/audio/speech", headers: all, body: try JSONSerialization.data(withJSONObject: body), key: nil)
    }
}

extension TestResponse {
    /// OpenAI's `{"error": {...}}`.
    var openAIError: [String: Any]? { json["error"] as? [String: Any] }
}
