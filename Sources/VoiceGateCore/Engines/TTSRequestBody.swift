/// The JSON body of GPT-SoVITS's `POST /tts`: every field the gateway relies on, explicit and never null
/// (api_v2 answers 422 to a null), languages in lowercase.
struct TTSRequestBody: Encodable, Equatable {
    var text: String
    var textLang: String
    var refAudioPath: String
    var promptText: String
    var promptLang: String
    var topK = 15
    var topP = 1.0
    var temperature: Double
    var textSplitMethod = "cut5"
    var batchSize = 1
    var speedFactor: Double
    var fragmentInterval = 0.3
    var seed: Int
    var mediaType = "wav"
    var streamingMode: Bool
    var parallelInfer = true
    var splitBucket = true
    var repetitionPenalty = 1.35

    enum CodingKeys: String, CodingKey {
        case text, temperature, seed
        case textLang = "text_lang", refAudioPath = "ref_audio_path", promptText = "prompt_text", promptLang = "prompt_lang"
        case topK = "top_k", topP = "top_p", textSplitMethod = "text_split_method", batchSize = "batch_size"
        case speedFactor = "speed_factor", fragmentInterval = "fragment_interval", mediaType = "media_type"
        case streamingMode = "streaming_mode", parallelInfer = "parallel_infer", splitBucket = "split_bucket"
        case repetitionPenalty = "repetition_penalty"
    }
}
