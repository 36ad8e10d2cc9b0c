import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// The folder of reference recordings shared with the upstream. Each distinct recording is stored once,
/// under its content hash: the upstream caches by path, so different audio must never reuse a path.
public struct ReferenceStore: Sendable {
    public let directory: String
    /// Lately stored references, so an equal upload is compared with its file instead of stored again.
    let known = KnownReferences()
    /// A full disk, for the answer, `/health` and the janitor.
    public let watch: StorageWatch
    var incomingDirectory: String { directory + "/.incoming" }

    public init(directory: String, watch: StorageWatch = StorageWatch()) {
        self.directory = directory
        self.watch = watch
    }

    /// Creates the folders; returns the reason when the gateway cannot store uploads.
    public func prepare() -> String? {
        do {
            try FileManager.default.createDirectory(atPath: incomingDirectory, withIntermediateDirectories: true)
        } catch {
            return "SOVITS_REF_DIR \(directory) cannot be created: \(error.localizedDescription)"
        }
        return writableProblem()
    }

    /// nil when a file can be written in the folder; otherwise why not.
    public func writableProblem() -> String? {
        let probe = incomingDirectory + "/.probe-\(getpid())"
        let fd = open(probe, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o600)
        guard fd >= 0 else { return "SOVITS_REF_DIR \(directory) is not writable: \(String(cString: strerror(errno)))" }
        close(fd)
        unlink(probe)
        return nil
    }

    func makeIncoming() throws -> IncomingFile {
        try IncomingFile(directory: incomingDirectory, watch: watch)
    }

    /// Moves a checked upload to its content-addressed name, or drops it when that content is already stored.
    func commit(_ file: IncomingFile, digest: String, info: AudioInfo) throws -> StoredReference {
        let name = "\(digest).\(info.format.rawValue)"
        let destination = directory + "/" + name
        if access(destination, F_OK) == 0 {
            unlink(file.path)
            utimes(destination, nil) // used now: the janitor keeps what was used lately
        } else if rename(file.path, destination) != 0 {
            let error = watch.refusedUpload("cannot store the reference audio")
            unlink(file.path)
            throw error
        }
        watch.uploadWritten()
        return StoredReference(fileName: name, localPath: destination, info: info)
    }

    /// Stores a local file (the console's reference path) the same way an upload is stored.
    public func importFile(atPath path: String, limits: ReferenceLimits) throws -> StoredReference {
        guard let handle = FileHandle(forReadingAtPath: path) else {
            throw GatewayError.invalid("missing_reference_audio", "reference audio \(path) cannot be opened")
        }
        defer { try? handle.close() }
        let file = try makeIncoming()
        do {
            while let data = try handle.read(upToCount: 64 * 1024), !data.isEmpty {
                guard file.size + data.count <= limits.maxBytes else {
                    throw GatewayError.invalid("file_too_large", "reference audio is larger than \(limits.maxBytes) bytes")
                }
                try file.write(.init(bytes: data))
            }
            return try accept(file, limits: limits)
        } catch {
            file.discard()
            throw error
        }
    }

    /// Checks a finished upload is allowed audio of an allowed length, then commits it.
    func accept(_ file: IncomingFile, limits: ReferenceLimits) throws -> StoredReference {
        let digest = file.finish()
        guard file.size > 0 else { throw GatewayError.invalid("missing_reference_audio", "reference_audio is empty") }
        let info: AudioInfo
        do {
            info = try AudioInspector.inspect(path: file.path)
        } catch let error as AudioInspectionError {
            throw GatewayError.invalid("unsupported_audio_format", "reference_audio is not usable audio: \(error.description)",
                                       details: ["allowed": .array(limits.formats.map { .string($0.rawValue) }.sorted { "\($0)" < "\($1)" })])
        }
        guard limits.formats.contains(info.format) else {
            throw GatewayError.invalid("unsupported_audio_format", "reference_audio is \(info.format.rawValue), which this gateway does not accept",
                                       details: ["format": .string(info.format.rawValue)])
        }
        let rounded = (info.duration * 100).rounded() / 100
        if info.duration < limits.minSeconds {
            throw GatewayError.invalid("reference_too_short", "reference_audio is \(rounded) s long; it must be \(limits.minSeconds)-\(limits.maxSeconds) s",
                                       details: ["duration": .number(info.duration), "min": .number(limits.minSeconds), "max": .number(limits.maxSeconds)])
        }
        if info.duration > limits.maxSeconds {
            throw GatewayError.invalid("reference_too_long", "reference_audio is \(rounded) s long; it must be \(limits.minSeconds)-\(limits.maxSeconds) s",
                                       details: ["duration": .number(info.duration), "min": .number(limits.minSeconds), "max": .number(limits.maxSeconds)])
        }
        let reference = try commit(file, digest: digest, info: info)
        known.remember(reference, head: file.head, size: file.size)
        return reference
    }
}

/// What a reference recording must satisfy.
public struct ReferenceLimits: Sendable {
    public var maxBytes: Int
    public var formats: Set<AudioFormat>
    public var minSeconds: Double
    public var maxSeconds: Double

    public init(config: GatewayConfig) {
        maxBytes = config.maxUploadSize
        formats = config.allowedAudioFormats
        minSeconds = config.refMinSeconds
        maxSeconds = config.refMaxSeconds
    }
}
