import Hummingbird

/// What OpenAI-compatible clients list before they speak: `GET /v1/audio/voices` (Kokoro-FastAPI's shape, which Open
/// WebUI reads), `GET /v1/audio/models` and OpenAI's `GET /v1/models`. Without a key (only with `PUBLIC_VOICE_LIST`)
/// the voices are the shared ones.
struct CatalogController {
    let voices: VoiceLibrary
    let engineName: String

    /// Any `model` is accepted; these are the names clients expect to find.
    static let modelNames = ["tts-1", "tts-1-hd", "gpt-4o-mini-tts"]

    struct Named: ResponseEncodable { let id: String; let name: String }
    struct VoiceList: ResponseEncodable { let voices: [Named] }
    struct ModelID: ResponseEncodable { let id: String }
    struct AudioModels: ResponseEncodable { let models: [ModelID] }
    struct Model: ResponseEncodable { let id: String; let object: String; let created: Int; let owned_by: String }
    struct ModelList: ResponseEncodable { let object: String; let data: [Model] }

    var models: [String] { Self.modelNames + [engineName] }

    func addRoutes(to group: RouterGroup<GatewayRequestContext>) {
        group.get("audio/voices") { _, context -> VoiceList in
            VoiceList(voices: try await voices.usableNames(by: context.caller).map { Named(id: $0, name: $0) })
        }
        group.get("audio/models") { _, _ -> AudioModels in
            AudioModels(models: models.map(ModelID.init))
        }
        group.get("models") { _, _ -> ModelList in
            ModelList(object: "list", data: models.map { Model(id: $0, object: "model", created: 0, owned_by: "voicegate") })
        }
    }
}
