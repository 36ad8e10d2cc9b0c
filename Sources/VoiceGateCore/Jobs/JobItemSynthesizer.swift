import Foundation
import NIOCore
import NIOPosix

/// One item of a job through the path every synthesis takes: the key's limits (its characters charged as the item
/// runs), its saved voice, the fair queue in the key's lane behind the key's own requests, the history (one row per
/// item, request id `JOB/INDEX`). The WAV goes to a temporary file renamed into the job's folder once complete.
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

    /// The item spoken at the job's speed; a dubbing job with `fit: "speed"` whose item overruns its cue is spoken
    /// once more, faster (up to `max_speed`).
    func make(_ item: JobItemRecord, of job: JobRecord) async throws -> Made {
        let speed = job.settings.speed ?? 1
        let first = try await synthesize(item, of: job, speed: speed)
        guard job.settings.fitSpeed, let cue = item.cue, first.durationMs > cue.end - cue.start else { return first }
        let natural = Int(Double(first.durationMs) * speed)
        let faster = min(SynthesisFields.speedRange.upperBound,
                         JobTimeline.speedToFit(cue, naturalMs: natural, maxSpeed: job.settings.maxSpeed))
        guard faster > speed + 0.01 else { return first }
        let second = try await synthesize(item, of: job, speed: faster)
        unlink(files.path(job.id, first.fileName))
        return second
    }

    private func synthesize(_ item: JobItemRecord, of job: JobRecord, speed: Double) async throws -> Made {
        guard let key = keys.key(named: job.key) else {
            throw GatewayError(403, "key_revoked", "the job's key \(job.key) was revoked")
        }
        let started = ContinuousClock.now
        let trace = SynthesisTrace(engine: service.engineName, arrived: started)
        let path = "\(apiPrefix)/jobs/\(job.id)/items/\(item.index)"
        recorder.requestStarted()
        var bytes = 0
        var failure: GatewayError?
        defer {
            recorder.finished(RequestEvent(time: Date(), id: "\(job.id)/\(item.index)", client: "job", method: "POST", path: path,
                                           status: failure?.statusCode ?? 200, latency: 0, bytes: bytes, errorCode: failure?.code,
                                           message: failure?.message, key: key.name, route: "\(apiPrefix)/jobs/{id}/items/{n}",
                                           synthesis: trace.current),
                              started: started)
        }
        let permit = try await meter.admit(key)
        do {
            let (voice, hold) = try await voices.resolve(job.voice, for: key)
            let settings = SynthesisFields.Validated(
                text: item.text, language: job.settings.language ?? "auto", speed: speed,
                temperature: job.settings.temperature ?? SynthesisFields.defaultTemperature, promptText: voice.promptText,
                promptLanguage: voice.promptLanguage, seed: job.settings.seed ?? -1, stream: false)
            let request = SynthesisRequest(settings, voice: voice, in: voices.referenceDirectory, hold: hold)
            trace.describe(request, keepText: keepText, voice: voice.name, format: .wav)
            try await permit.charge(characters: item.text.count)
            let result = try await service.synthesize(request, lane: key.name, background: true, trace: trace)
            defer { result.finish() }
            try files.prepare(job.id)
            let fileName = JobFiles.itemFileName(index: item.index)
            let destination = files.path(job.id, fileName)
            bytes = try await Self.write(result, to: destination)
            let durationMs = try AudioJoiner.Item(path: destination).durationMs
            permit.release()
            return Made(fileName: fileName, durationMs: durationMs, speed: speed)
        } catch {
            permit.release(failed: true)
            failure = Task.isCancelled ? GatewayError(499, "job_stopped", "the job stopped while its item ran") : GatewayError.from(error)
            throw error
        }
    }

    /// Writes the answer to a temporary file on NIO's thread pool and renames it into place; its byte count.
    private static func write(_ result: SynthesisResult, to destination: String) async throws -> Int {
        let partial = destination + ".part"
        guard FileManager.default.createFile(atPath: partial, contents: nil), let handle = FileHandle(forWritingAtPath: partial) else {
            throw GatewayError(500, "storage_error", "cannot write the item's audio in the jobs folder")
        }
        var bytes = 0
        do {
            defer { try? handle.close() }
            while let chunk = try await result.next() {
                try Task.checkCancellation()
                bytes += chunk.readableBytes
                try await NIOThreadPool.singleton.runIfActive { try handle.write(contentsOf: chunk.readableBytesView) }
            }
        } catch {
            unlink(partial)
            throw error
        }
        guard rename(partial, destination) == 0 else {
            unlink(partial)
            throw GatewayError(500, "storage_error", "cannot move the item's audio into place: \(String(cString: strerror(errno)))")
        }
        return bytes
    }
}
