import Foundation
import NIOCore
import NIOPosix
import Subprocess
import SystemPackage
import Synchronization

/// The embedded engine used when no GPT-SoVITS is configured: espeak-ng speaking the requested language,
/// at the requested speed, with its pitch matched to the reference speaker's. It is not voice cloning.
public final class EspeakEngine: SynthesisEngine {
    public static let installHint = "espeak-ng is not installed: apt-get install espeak-ng"
    public let command: String
    private let workDirectory: String
    private let resolved = Mutex<String?>(nil)

    public init(command: String, workDirectory: String) {
        self.command = command
        self.workDirectory = workDirectory
    }

    public var name: String { "espeak-ng (embedded)" }
    public var target: String { command }

    /// The executable's absolute path, looked up on PATH, or nil when it is not installed.
    public func executable() -> String? {
        if let path = resolved.withLock({ $0 }) { return path }
        var candidates = [command]
        if !command.contains("/") {
            let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/local/bin:/usr/bin:/bin"
            candidates = path.split(separator: ":").map { "\($0)/\(command)" }
        }
        let found = candidates.first { FileManager.default.isExecutableFile(atPath: $0) }
        if let found { resolved.withLock { $0 = found } }
        return found
    }

    public func synthesize(_ request: SynthesisRequest, timeout: Double) async throws -> ByteChunkReader {
        guard let executable = executable() else {
            throw GatewayError(503, "engine_unavailable", Self.installHint)
        }
        let f0 = await Self.referenceF0(request.reference)
        let voice = EspeakVoice(language: request.language, text: request.text, speed: request.speed, referenceF0: f0)
        try FileManager.default.createDirectory(atPath: workDirectory, withIntermediateDirectories: true)
        let output = workDirectory + "/espeak-" + UUID().uuidString + ".wav"
        let arguments = ["-v", voice.voice, "-s", String(voice.wordsPerMinute), "-p", String(voice.pitch), "-w", output, "--stdin"]
        let outcome: (status: TerminationStatus, errors: String)
        do {
            outcome = try await withTimeout(timeout) {
                let result = try await Subprocess.run(.path(FilePath(executable)), arguments: Arguments(arguments),
                                                      input: .string(request.text), output: .discarded,
                                                      error: .string(limit: 64 * 1024))
                return (result.terminationStatus, result.standardError)
            }
        } catch let error where error is GatewayError || error is CancellationError {
            try? FileManager.default.removeItem(atPath: output)
            throw error
        } catch {
            try? FileManager.default.removeItem(atPath: output)
            throw GatewayError(503, "engine_unavailable", "espeak-ng cannot be run: \(error)")
        }
        guard outcome.status.isSuccess, let handle = FileHandle(forReadingAtPath: output) else {
            try? FileManager.default.removeItem(atPath: output)
            let message = outcome.errors.prefix(300).trimmingCharacters(in: .whitespacesAndNewlines)
            throw GatewayError(502, "engine_failed", "espeak-ng failed (\(outcome.status)): \(message)")
        }
        let box = HandleBox(handle)
        return ByteChunkReader(onClose: {
            box.close()
            try? FileManager.default.removeItem(atPath: output)
        }) {
            guard let data = try box.handle?.read(upToCount: 64 * 1024), !data.isEmpty else { return nil }
            return ByteBuffer(bytes: data)
        }
    }

    /// Runs `body`, cancelling it (which kills the child process) when `timeout` passes first.
    private func withTimeout<T: Sendable>(_ timeout: Double, _ body: @escaping @Sendable () async throws -> T) async throws -> T {
        let work = Task(operation: body)
        let expired = Mutex(false)
        let timer = Deadline.after(timeout) {
            expired.withLock { $0 = true }
            work.cancel()
        }
        defer { timer.cancel() }
        do {
            return try await withTaskCancellationHandler { try await work.value } onCancel: { work.cancel() }
        } catch where expired.withLock({ $0 }) {
            throw GatewayError(504, "upstream_timeout", "espeak-ng did not finish within SOVITS_TIMEOUT (\(formatSeconds(timeout)) s)")
        }
    }

    /// The reference speaker's median F0; nil when it cannot be measured (too little voicing, or a
    /// compressed format and no `sox` to decode it).
    /// Decoding and the pitch search take tens of milliseconds of CPU: they run on NIO's blocking-work pool,
    /// not on an event loop (which, in the voicegate binary, also runs Swift concurrency).
    static func referenceF0(_ reference: StoredReference) async -> Double? {
        let decoded: (samples: [Float], sampleRate: Int)?
        if reference.info.format == .wav {
            decoded = try? await NIOThreadPool.singleton.runIfActive { try PCMDecoder.decodeWAV(path: reference.localPath) }
        } else {
            decoded = await decodeWithSox(reference.localPath, seconds: reference.info.duration)
        }
        guard let decoded else { return nil }
        return try? await NIOThreadPool.singleton.runIfActive {
            PitchEstimator.medianF0(samples: decoded.samples, sampleRate: decoded.sampleRate)
        }
    }

    /// FLAC, OGG and MP3 references decoded to 16 kHz mono WAV by sox, when it is installed.
    static func decodeWithSox(_ path: String, seconds: Double) async -> (samples: [Float], sampleRate: Int)? {
        let candidates = ["/usr/bin/sox", "/usr/local/bin/sox"]
        guard let sox = candidates.first(where: { FileManager.default.isExecutableFile(atPath: $0) }) else { return nil }
        // 16-bit mono at 16 kHz, with a second to spare for the container's rounding.
        let limit = Int((seconds + 1) * 32_000) + 4096
        guard let result = try? await Subprocess.run(
            .path(FilePath(sox)), arguments: [path, "-t", "wav", "-r", "16000", "-c", "1", "-b", "16", "-"],
            output: .bytes(limit: limit), error: .discarded),
            result.terminationStatus.isSuccess else { return nil }
        return try? PCMDecoder.decodeWAV(result.standardOutput)
    }

    public func probe(timeout: Double) async -> ProbeOutcome {
        let started = ContinuousClock.now
        guard executable() != nil else { return .failed(reason: Self.installHint, timedOut: false) }
        return .up(latency: (ContinuousClock.now - started).seconds)
    }
}

/// A file handle shared between the reader closure and its close hook.
private final class HandleBox: @unchecked Sendable {
    private(set) var handle: FileHandle?
    init(_ handle: FileHandle) { self.handle = handle }
    func close() { try? handle?.close(); handle = nil }
}
