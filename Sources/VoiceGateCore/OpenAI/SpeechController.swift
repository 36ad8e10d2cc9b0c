import Foundation
import HTTPTypes
import Hummingbird
import NIOCore

/// `POST /v1/audio/speech`, OpenAI's text-to-speech call, on a saved voice: the same limits, fair queue and history
/// as the seed's route. The upstream is asked to stream (but for a FLAC file, see `SpeechRequest.streamsUpstream`)
/// and the audio is encoded as it comes.
struct SpeechController {
    let voices: VoiceLibrary
    let service: SynthesisService
    let meter: UsageMeter
    let keepText: Bool

    func addRoutes(to group: RouterGroup<GatewayRequestContext>) {
        group.post("audio/speech") { request, context in try await speech(request, context: context) }
    }

    func speech(_ request: Request, context: GatewayRequestContext) async throws -> Response {
        guard let caller = context.caller else { throw GatewayError.unauthorized }
        let trace = SynthesisTrace(engine: service.engineName)
        context.exchange.trace = trace
        let permit = try await meter.admit(caller)
        do {
            let speech = try SpeechRequest(try await JSONBody.read(request))
            let (voice, hold) = try await voices.resolve(speech.voice, for: caller)
            let settings = SynthesisFields.Validated(text: speech.input, language: speech.language, speed: speech.engineSpeed,
                                                     temperature: SynthesisFields.defaultTemperature, promptText: voice.promptText,
                                                     promptLanguage: voice.promptLanguage, seed: -1, stream: speech.streamsUpstream)
            let synthesis = SynthesisRequest(settings, voice: voice, in: voices.referenceDirectory, hold: hold)
            trace.describe(synthesis, keepText: keepText, voice: voice.name, format: speech.format, model: speech.model)
            try await permit.charge(characters: speech.input.count)
            let service = self.service
            let lane = permit.key.name
            let result = try await context.cancellingOnClientClose { try await service.synthesize(synthesis, lane: lane, trace: trace) }
            let audio: EncodedAudioStream
            do {
                audio = try EncodedAudioStream(result, format: speech.format)
            } catch {
                result.finish()
                throw error
            }
            return speech.streamFormat == .sse
                ? Self.events(audio, inputCharacters: speech.input.count, permit: permit)
                : Self.audio(audio, engine: service.engineName, permit: permit)
        } catch {
            permit.release(failed: true)
            throw error
        }
    }

    static func audio(_ audio: EncodedAudioStream, engine: String, permit: UsagePermit) -> Response {
        var headers = SynthesizeController.headers(for: audio.result, engine: engine)
        headers[.contentType] = audio.contentType
        headers[.contentDisposition] = "attachment; filename=\"speech.\(audio.format.fileExtension)\""
        return Response(status: .ok, headers: headers,
                        body: AudioBody.make(permit: permit, finish: { audio.finish() }, next: { try await audio.next() }))
    }

    /// Server-sent events: each piece of encoded audio as a `speech.audio.delta`, then `speech.audio.done` with the
    /// usage OpenAI's schema requires. Tokens are not what GPT-SoVITS counts: input_tokens is the input's characters
    /// (what the daily quota charges), output_tokens 0. A failure after the first event ends the stream with an
    /// `error` event.
    static func events(_ audio: EncodedAudioStream, inputCharacters: Int, permit: UsagePermit) -> Response {
        var headers = HTTPFields()
        headers[.contentType] = "text/event-stream"
        headers[.cacheControl] = "no-cache"
        headers[.xSampleRate] = String(audio.result.sampleRate)
        return Response(status: .ok, headers: headers, body: ResponseBody { writer in
            var completed = false
            defer {
                audio.finish()
                permit.release(failed: !completed)
            }
            do {
                while let chunk = try await audio.next() {
                    try await writer.write(SpeechEvent.delta(chunk))
                }
            } catch {
                let failure = GatewayError.from(error)
                try? await writer.write(SpeechEvent.error(failure))
                throw error
            }
            try await writer.write(SpeechEvent.done(inputTokens: inputCharacters))
            try await writer.finish(nil)
            completed = true
        })
    }
}
