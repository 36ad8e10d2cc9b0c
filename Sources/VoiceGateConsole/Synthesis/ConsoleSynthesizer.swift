import Foundation
import VoiceGateCore

/// Runs the form's synthesis through the gateway's own path (validation, reference store or saved voice, queue,
/// engine, error mapping) and writes the audio atomically: a temporary file renamed into place only when complete.
/// WAV is written as it streams in; other formats are encoded from the whole WAV once it is in.
public struct ConsoleSynthesizer: Sendable {
    public let gateway: Gateway

    public init(gateway: Gateway) {
        self.gateway = gateway
    }

    /// The name the console's syntheses go by in the log, the history and the queue's lanes.
    public static let keyName = "console"

    /// `progress` receives the queue position while waiting (nil once running). Cancellation leaves no file.
    public func run(_ form: SynthesisForm, outputFolder: String, progress: @escaping @Sendable (Int?) -> Void) async -> RunState {
        let started = ContinuousClock.now
        let trace = SynthesisTrace(engine: gateway.service.engineName, arrived: started)
        let recorder = gateway.recorder
        recorder.requestStarted()
        let path = "\(gateway.config.apiPrefix)/voice/synthesize"
        func record(status: Int, bytes: Int, failure: GatewayError?) {
            recorder.finished(RequestEvent(time: Date(), id: RequestID.make(), client: "console", method: "POST", path: path, status: status,
                                           latency: 0, bytes: bytes, errorCode: failure?.code, message: failure?.message,
                                           key: Self.keyName, route: path, synthesis: trace.current),
                              started: started)
        }
        let ticket = gateway.service.queue.makeTicket()
        let queue = gateway.service.queue
        let watcher = Task {
            while !Task.isCancelled {
                progress(queue.position(of: ticket))
                try? await Task.sleep(for: .milliseconds(100))
            }
        }
        defer { watcher.cancel() }
        var temporary: String?
        var bytes = 0
        do {
            let request = try await synthesisRequest(form)
            trace.describe(request, keepText: gateway.config.historyStoreText, voice: form.voice, format: form.format)
            let result = try await gateway.service.synthesize(request, ticket: ticket, lane: Self.keyName, trace: trace)
            defer { result.finish() }
            let firstByte = (ContinuousClock.now - started).seconds
            let destination = form.outputPath(folder: outputFolder)
            try FileManager.default.createDirectory(atPath: (destination as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
            let partial = destination + ".part-" + UUID().uuidString.prefix(8)
            temporary = partial
            guard FileManager.default.createFile(atPath: partial, contents: nil),
                  let handle = FileHandle(forWritingAtPath: partial) else {
                throw GatewayError(500, "storage_error", "cannot write \(partial)")
            }
            var audio = Data()
            do {
                defer { try? handle.close() }
                while let chunk = try await result.next() {
                    try Task.checkCancellation()
                    let data = Data(chunk.readableBytesView)
                    if form.format == .wav { try handle.write(contentsOf: data) }
                    audio.append(data)
                    bytes += data.count
                }
                if form.format != .wav {
                    let encoded = try form.format.encode(wav: [UInt8](audio))
                    try handle.write(contentsOf: Data(encoded))
                    bytes = encoded.count
                }
            }
            try Task.checkCancellation()
            guard rename(partial, destination) == 0 else {
                throw GatewayError(500, "storage_error", "cannot move the audio into \(destination): \(String(cString: strerror(errno)))")
            }
            temporary = nil
            let decoded = try? PCMDecoder.decodeWAV([UInt8](audio))
            let samples = decoded?.samples ?? []
            let rate = decoded?.sampleRate ?? result.sampleRate
            record(status: 200, bytes: bytes, failure: nil)
            return .finished(ConsoleResult(path: destination, duration: Double(samples.count) / Double(max(1, rate)), sampleRate: rate,
                                           timeToFirstByte: firstByte, total: (ContinuousClock.now - started).seconds,
                                           peaks: Waveform.peaks(samples, count: 400)))
        } catch {
            if let temporary { unlink(temporary) }
            let cancelled = error is CancellationError || Task.isCancelled
            let failure = cancelled ? GatewayError(499, "client_closed", "cancelled from the console") : GatewayError.from(error)
            record(status: failure.statusCode, bytes: bytes, failure: failure)
            return cancelled ? .cancelled : .failed("\(failure.code): \(failure.message)")
        }
    }

    /// The console acts as an admin: it may use every saved voice.
    public static let operatorKey = KeyRecord(name: keyName, role: .admin, keyHash: "")

    /// The form's synthesis: on the chosen saved voice (its transcript unless one is typed), or on the Reference file.
    func synthesisRequest(_ form: SynthesisForm) async throws -> SynthesisRequest {
        guard let name = form.voice else {
            let referencePath = (form.reference as NSString).expandingTildeInPath
            return SynthesisRequest(try form.validated(), reference: try gateway.references.importFile(atPath: referencePath, limits: gateway.limits))
        }
        let (voice, hold) = try await gateway.voices.resolve(name, for: Self.operatorKey)
        var settings = try form.validated()
        if form.promptText.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty {
            settings.promptText = voice.promptText
            settings.promptLanguage = voice.promptLanguage
        }
        return SynthesisRequest(settings, voice: voice, in: gateway.voices.referenceDirectory, hold: hold)
    }
}
