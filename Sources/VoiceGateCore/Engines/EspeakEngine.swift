import Foundation
import NIOCore
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
        let f0 = Self.referenceF0(request.reference)
        let voice = EspeakVoice(language: request.language, text: request.text, speed: request.speed, referenceF0: f0)
        try FileManager.default.createDirectory(atPath: workDirectory, withIntermediateDirectories: true)
        let output = workDirectory + "/espeak-" + UUID().uuidString + ".wav"
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = ["-v", voice.voice, "-s", String(voice.wordsPerMinute), "-p", String(voice.pitch), "-w", output, "--stdin"]
        let input = Pipe()
        let errors = Pipe()
        process.standardInput = input
        process.standardOutput = FileHandle.nullDevice
        process.standardError = errors
        let status: Int32
        do {
            status = try await run(process, input: input, text: request.text, timeout: timeout)
        } catch {
            try? FileManager.default.removeItem(atPath: output)
            throw error
        }
        guard status == 0, let handle = FileHandle(forReadingAtPath: output) else {
            try? FileManager.default.removeItem(atPath: output)
            let message = String(decoding: errors.fileHandleForReading.availableData.prefix(300), as: UTF8.self)
            throw GatewayError(502, "engine_failed", "espeak-ng failed (exit \(status)): \(message.trimmingCharacters(in: .whitespacesAndNewlines))")
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

    private func run(_ process: Process, input: Pipe, text: String, timeout: Double) async throws -> Int32 {
        let finished = AsyncStream<Int32>.makeStream()
        process.terminationHandler = { p in
            finished.continuation.yield(p.terminationStatus)
            finished.continuation.finish()
        }
        do {
            try process.run()
        } catch {
            throw GatewayError(503, "engine_unavailable", "espeak-ng cannot be started: \(error.localizedDescription)")
        }
        input.fileHandleForWriting.write(Data(text.utf8))
        try? input.fileHandleForWriting.close()
        return try await withThrowingTaskGroup(of: Int32.self) { group in
            group.addTask {
                for await status in finished.stream { return status }
                return -1
            }
            group.addTask {
                try await Task.sleep(for: .milliseconds(Int64(timeout * 1000)))
                throw GatewayError(504, "upstream_timeout", "espeak-ng did not finish within SOVITS_TIMEOUT (\(formatSeconds(timeout)) s)")
            }
            defer {
                group.cancelAll()
                if process.isRunning { process.terminate() }
            }
            return try await group.next()!
        }
    }

    /// The reference speaker's median F0; nil when it cannot be measured (too little voicing, or a
    /// compressed format and no `sox` to decode it).
    static func referenceF0(_ reference: StoredReference) -> Double? {
        let decoded: (samples: [Float], sampleRate: Int)?
        if reference.info.format == .wav {
            decoded = try? PCMDecoder.decodeWAV(path: reference.localPath)
        } else {
            decoded = decodeWithSox(reference.localPath)
        }
        guard let decoded else { return nil }
        return PitchEstimator.medianF0(samples: decoded.samples, sampleRate: decoded.sampleRate)
    }

    /// FLAC, OGG and MP3 references decoded to 16 kHz mono WAV by sox, when it is installed.
    static func decodeWithSox(_ path: String) -> (samples: [Float], sampleRate: Int)? {
        let candidates = ["/usr/bin/sox", "/usr/local/bin/sox"]
        guard let sox = candidates.first(where: { FileManager.default.isExecutableFile(atPath: $0) }) else { return nil }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: sox)
        process.arguments = [path, "-t", "wav", "-r", "16000", "-c", "1", "-b", "16", "-"]
        let output = Pipe()
        process.standardOutput = output
        process.standardError = FileHandle.nullDevice
        guard (try? process.run()) != nil else { return nil }
        let data = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else { return nil }
        return try? PCMDecoder.decodeWAV([UInt8](data))
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
