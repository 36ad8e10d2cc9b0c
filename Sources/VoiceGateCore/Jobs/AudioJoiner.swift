import Foundation
import NIOCore

/// Joins a job's items (16-bit PCM WAV files, one voice so one rate) into one file in the job's format, each item at
/// its `JobTimeline` place with silence between: streamed from the items' files to the output a block at a time, so a
/// book-length job never sits in memory whole. The length is known before the first byte: WAV and FLAC carry it.
public enum AudioJoiner {
    static let block = 32 * 1024

    /// An item's file that cannot be joined (the job runner reports it on the job).
    public struct JoinError: Error, CustomStringConvertible {
        public let description: String
        init(_ description: String) { self.description = description }
    }

    /// An item's audio as the joiner reads it.
    public struct Item: Sendable {
        public var path: String
        public var header: WAVHeader

        /// The item's file, checked: 16-bit PCM with a known length.
        public init(path: String) throws {
            let handle = try FileHandle(forReadingFrom: URL(fileURLWithPath: path))
            defer { try? handle.close() }
            let head = [UInt8](try handle.read(upToCount: 4096) ?? Data())
            guard let header = WAVHeader.parse(head), header.formatProblem == nil, header.formatTag == 1, header.bitsPerSample == 16 else {
                throw JoinError("an item's audio (\(path)) is not 16-bit PCM WAV")
            }
            var known = header
            let size = ((try? FileManager.default.attributesOfItem(atPath: path))?[.size] as? NSNumber)?.intValue ?? 0
            known.dataSize = header.dataSizeIsUnknown ? max(0, size - header.dataOffset) : min(header.dataSize, max(0, size - header.dataOffset))
            self.path = path
            self.header = known
        }

        /// Milliseconds of audio, rounded down.
        public var durationMs: Int { header.dataSize / (2 * max(1, header.channels)) * 1000 / max(1, header.sampleRate) }
    }

    /// Writes the joined audio to `output` (created or replaced) and returns its size in bytes.
    @discardableResult
    public static func join(_ items: [Item], at placements: [JobTimeline.Placement], format: SpeechFormat, to output: String) throws -> Int {
        precondition(items.count == placements.count)
        let rate = items.first?.header.sampleRate ?? 32000
        let channels = items.first?.header.channels ?? 1
        guard items.allSatisfy({ $0.header.sampleRate == rate && $0.header.channels == channels }) else {
            throw JoinError("the job's items differ in sample rate or channels; they cannot be joined")
        }
        let frameBytes = 2 * channels
        func frames(_ ms: Int) -> Int { ms * rate / 1000 }
        let totalFrames = frames(JobTimeline.length(placements))
        FileManager.default.createFile(atPath: output, contents: nil)
        let out = try FileHandle(forWritingTo: URL(fileURLWithPath: output))
        defer { try? out.close() }
        let encoder = try format.makeEncoder(sampleRate: rate, channels: channels, totalFrames: totalFrames)
        var written = 0
        var buffer = ByteBuffer()
        func emit(_ pcm: some Collection<UInt8>) throws {
            if let encoder { try encoder.encode(pcm: pcm, into: &buffer) } else { buffer.writeBytes(pcm) }
            if buffer.readableBytes >= block { try flush() }
        }
        func emitSilence(frames: Int) throws {
            var left = frames * frameBytes
            while left > 0 {
                let n = min(left, block)
                try emit(repeatElement(UInt8(0), count: n))
                left -= n
            }
        }
        func flush() throws {
            guard buffer.readableBytes > 0 else { return }
            try out.write(contentsOf: Data(buffer.readableBytesView))
            written += buffer.readableBytes
            buffer.clear()
        }
        if format == .wav { buffer.writeBytes(WAVHeader.canonical(sampleRate: rate, channels: channels, dataSize: totalFrames * frameBytes)) }
        var at = 0 // frames written
        for (item, place) in zip(items, placements) {
            let silence = max(0, frames(place.start) - at)
            try emitSilence(frames: silence)
            at += silence
            let input = try FileHandle(forReadingFrom: URL(fileURLWithPath: item.path))
            defer { try? input.close() }
            try input.seek(toOffset: UInt64(item.header.dataOffset))
            var remaining = min(item.header.dataSize / frameBytes, max(0, totalFrames - at)) * frameBytes
            at += remaining / frameBytes
            while remaining > 0 {
                guard let chunk = try input.read(upToCount: min(remaining, block)), !chunk.isEmpty else {
                    throw JoinError("an item's audio (\(item.path)) ended before its length")
                }
                try emit(chunk)
                remaining -= chunk.count
            }
        }
        try emitSilence(frames: max(0, totalFrames - at))
        if let encoder { try encoder.finish(into: &buffer) }
        try flush()
        return written
    }
}
