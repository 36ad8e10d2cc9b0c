// What OpenAI-compatible clients and voice uploads send: a /v1/audio/speech JSON body (first byte % 3 == 0), a
// VOICE_ALIASES value (1), or a new voice's form fields separated by NUL (2). Bad input is a GatewayError 4xx or
// a ConfigError, never a trap; what is accepted is within the documented ranges.
import FuzzDriver
#if FUZZING
import Foundation
@testable import VoiceGateCore

let client = KeyRecord(name: "fuzz", role: .client, keyHash: "")

fuzz { data, count in
    let input = bytes(data, count)
    guard let mode = input.first else { return 0 }
    let rest = Data(input.dropFirst())
    do {
        switch mode % 3 {
        case 0:
            let speech = try SpeechRequest(try JSONBody(rest))
            if speech.input.count > SpeechRequest.maxInput || speech.input.isEmpty { violated("accepted input of \(speech.input.count)") }
            if !SpeechRequest.speedRange.contains(speech.speed) || !SpeechRequest.engineSpeedRange.contains(speech.engineSpeed) {
                violated("accepted speed \(speech.speed) -> \(speech.engineSpeed)")
            }
            if speech.voice.isEmpty || speech.model.isEmpty { violated("accepted an empty voice or model") }
        case 1:
            if case .success(let aliases) = VoiceAliases.parse(String(decoding: rest, as: UTF8.self)) {
                for (alias, voice) in aliases.targets where !VoiceRecord.isValidName(alias) || !VoiceRecord.isValidName(voice) {
                    violated("accepted the alias \(alias.debugDescription) -> \(voice.debugDescription)")
                }
            }
        default:
            let fields = rest.split(separator: 0, omittingEmptySubsequences: false).map { String(decoding: $0, as: UTF8.self) }
            func field(_ i: Int) -> String? { i < fields.count ? fields[i] : nil }
            let draft = try VoiceLibrary.draft(name: field(0), promptText: field(1), promptLanguage: field(2), description: field(3),
                                               shared: field(4), gptWeights: field(5), sovitsWeights: field(6), by: client)
            if draft.weights != nil { violated("a client key named model weights") }
            if !VoiceRecord.isValidName(draft.name) { violated("accepted the voice name \(draft.name.debugDescription)") }
            if draft.shared { violated("a client key made a shared voice") }
        }
    } catch let error as GatewayError {
        if !(400..<500).contains(error.statusCode) { violated("answered \(error.statusCode) to bad input") }
    } catch is ConfigError {
    } catch {
        violated("failed with \(error), not a GatewayError")
    }
    return 0
}
#else
fuzz { _, _ in 0 }
#endif
