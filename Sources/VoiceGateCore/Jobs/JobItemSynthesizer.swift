import Foundation
import NIOCore

/// One item of a job through the path every synthesis takes: the key's limits (its characters charged as the item
/// runs), its saved voice, the fair queue in the key's lane behind the key's own requests, the history (one row per
/// item, request id `JOB/INDEX`). The WAV goes to a temporary file renamed into the job's folder once complete
/// (`JobItemFile`); the item's worker is free before that, once the answer is in.
struct JobItemSynthesizer: Sendable {
    let service: SynthesisService
    let voices: VoiceLibrary
    let meter: UsageMeter
    let keys: KeyRing
    let recorder: RequestRecorder
    let files: JobFiles
    let keepText: Bool
    let apiPrefix: String

    /// A finished item's audio: its file in the job's folder and its length.
    struct Made: Sendable {
        var fileName: String
        var durationMs: Int
        var speed: Double
    }

    /// An item whose answer is in: its worker serves the next request while `written` puts the rest of its file in
    /// place (and records its history row).
    struct Answered: Sendable {
        let written: Task<Made, any Error>
    }

    /// The job's saved voice for its key, looked up while the item before the one that speaks with it runs: the
    /// worker then does not wait for the store between two items. (A voice deleted meanwhile still speaks that one
    /// item, its recording held until then.)
    typealias VoiceLookup = Task<(VoiceRecord, ReferenceHold), any Error>

    func lookUpVoice(of job: JobRecord) -> VoiceLookup {
        Task { [keys, voices] in
            guard let key = keys.key(named: job.key) else { throw Self.revoked(job) }
            return try await voices.resolve(job.voice, for: key)
        }
    }

    static func revoked(_ job: JobRecord) -> GatewayError {
        GatewayError(403, "key_revoked", "the job's key \(job.key) was revoked")
    }

    /// The item spoken at the job's speed (with `voice` when it was looked up ahead); a dubbing job with
    /// `fit: "speed"` whose item overruns its cue is spoken once more, faster (up to `max_speed`): such an item is
    /// answered once its length is known.
    func make(_ item: JobItemRecord, of job: JobRecord, voice: VoiceLookup? = nil) async throws -> Answered {
        let speed = job.settings.speed ?? 1
        let first = try await synthesize(item, of: job, speed: speed, voice: voice)
        guard job.settings.fitSpeed, let cue = item.cue else { return first }
        let made = try await first.written.value
        guard made.durationMs > cue.end - cue.start else { return first }
        let natural = Int(Double(made.durationMs) * speed)
        let faster = min(SynthesisFields.speedRange.upperBound,
                         JobTimeline.speedToFit(cue, naturalMs: natural, maxSpeed: job.settings.maxSpeed))
        guard faster > speed + 0.01 else { return first }
        let second = try await synthesize(item, of: job, speed: faster)
        let replaced = files.path(job.id, made.fileName)
        return Answered(written: Task {
            defer { unlink(replaced) }
            return try await second.written.value
        })
    }

    private func synthesize(_ item: JobItemRecord, of job: JobRecord, speed: Double, voice lookup: VoiceLookup? = nil) async throws -> Answered {
        let started = ContinuousClock.now
        let trace = SynthesisTrace(engine: service.engineName, arrived: started)
        let (recorder, keyName) = (recorder, job.key)
        let path = "\(apiPrefix)/jobs/\(job.id)/items/\(item.index)", route = "\(apiPrefix)/jobs/{id}/items/{n}"
        recorder.requestStarted()
        // The item's history row, once its file is in place or it failed.
        let finished = { @Sendable (failure: GatewayError?, bytes: Int) in
            recorder.finished(RequestEvent(time: Date(), id: "\(job.id)/\(item.index)", client: "job", method: "POST", path: path,
                                           status: failure?.statusCode ?? 200, latency: 0, bytes: bytes, errorCode: failure?.code,
                                           message: failure?.message, key: keyName, route: route, synthesis: trace.current),
                              started: started)
        }
        var permit: UsagePermit?
        do {
            guard let key = keys.key(named: job.key) else { throw Self.revoked(job) }
            permit = try await meter.admit(key)
            let (voice, hold) = if let lookup { try await lookup.value } else { try await voices.resolve(job.voice, for: key) }
            let settings = SynthesisFields.Validated(
                text: item.text, language: job.settings.language ?? "auto", speed: speed,
                temperature: job.settings.temperature ?? SynthesisFields.defaultTemperature, promptText: voice.promptText,
                promptLanguage: voice.promptLanguage, seed: job.settings.seed ?? -1, stream: false)
            let request = SynthesisRequest(settings, voice: voice, in: voices.referenceDirectory, hold: hold)
            trace.describe(request, keepText: keepText, voice: voice.name, format: .wav)
            try await permit?.charge(characters: item.text.count)
            let result = try await service.synthesize(request, lane: key.name, background: true, trace: trace)
            let file: JobItemFile
            let last: ByteBuffer?
            do {
                file = try JobItemFile(files, job: job.id, index: item.index)
                do { last = try await file.write(untilAnswered: result) } catch { file.discard(); throw error }
            } catch {
                result.finish()
                throw error
            }
            permit?.release()
            return Answered(written: Task {
                defer { result.finish() }
                do {
                    let durationMs = try await file.finish(last)
                    finished(nil, file.bytes)
                    return Made(fileName: file.fileName, durationMs: durationMs, speed: speed)
                } catch {
                    file.discard()
                    finished(GatewayError.from(error), file.bytes)
                    throw error
                }
            })
        } catch {
            permit?.release(failed: true)
            finished(Task.isCancelled ? GatewayError(499, "job_stopped", "the job stopped while its item ran") : GatewayError.from(error), 0)
            throw error
        }
    }
}
