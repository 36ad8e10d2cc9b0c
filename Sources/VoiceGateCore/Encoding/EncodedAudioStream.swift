import NIOCore

/// A synthesis's audio in the format the client asked for, encoded as the upstream's PCM arrives: each `next()`
/// hands out what the encoder has completed. Runs in the response's task, on Swift's cooperative pool, never on an
/// event loop. wav passes the bytes through (header included), pcm drops the header.
public final class EncodedAudioStream: @unchecked Sendable {
    public let format: SpeechFormat
    public let result: SynthesisResult
    private let encoder: (any AudioEncoder)?
    /// WAV header bytes still to drop before the samples.
    private var headerLeft: Int
    /// A sample's first byte when a chunk ended in the middle of it.
    private var carry: UInt8?
    private var samples: [Int16] = []
    /// The part of `samples` not encoded yet.
    private var pendingStart = 0
    private var pendingEnd = 0
    /// 100 ms of audio (whole frames of every channel).
    private let sliceSamples: Int
    private var started = false
    private var ended = false

    public init(_ result: SynthesisResult, format: SpeechFormat) throws {
        self.format = format
        self.result = result
        let header = result.header
        sliceSamples = max(1, header.sampleRate / 10) * max(1, header.channels)
        headerLeft = format == .wav ? 0 : (result.streaming ? WAVHeader.canonicalLength : header.dataOffset)
        if format != .wav, format != .pcm, header.bitsPerSample != 16 || header.formatTag != 1 {
            throw GatewayError(502, "upstream_bad_response",
                               "the upstream's audio is \(header.bitsPerSample)-bit (format \(header.formatTag)); \(format.rawValue) is encoded from 16-bit PCM")
        }
        do {
            let known = result.streaming || header.dataSizeIsUnknown ? nil : header.dataSize / max(1, 2 * header.channels)
            encoder = try format.makeEncoder(sampleRate: header.sampleRate, channels: header.channels, totalFrames: known)
        } catch {
            throw GatewayError(500, "encoder_failed", "cannot encode \(format.rawValue): \(error)")
        }
    }

    public var contentType: String { format.contentType(sampleRate: result.sampleRate) }

    /// The next encoded bytes; nil at the end. A cut upstream stream throws (what was encoded has gone out).
    /// An upstream chunk (a GPT-SoVITS fragment is often a second or more) is encoded a slice at a time, each slice's
    /// frames handed out at once: the first audio leaves after one slice's work, not the whole chunk's.
    public func next() async throws -> ByteBuffer? {
        var output = ByteBuffer()
        if !started {
            started = true
            // Whatever a format writes before any audio (Ogg/Opus's header pages) goes out at once.
            if let encoder { try finishing { try encoder.encode(UnsafeBufferPointer(start: nil, count: 0), into: &output) } }
            if output.readableBytes > 0 { return output }
        }
        while output.readableBytes == 0 {
            if let encoder, pendingStart < pendingEnd {
                let end = min(pendingEnd, pendingStart + sliceSamples)
                try finishing {
                    try samples.withUnsafeBufferPointer { try encoder.encode(UnsafeBufferPointer(rebasing: $0[pendingStart..<end]), into: &output) }
                }
                pendingStart = end
                continue
            }
            if ended { return nil }
            guard var chunk = try await result.next() else {
                ended = true
                if let encoder { try finishing { try encoder.finish(into: &output) } }
                return output.readableBytes > 0 ? output : nil
            }
            dropHeader(&chunk)
            guard encoder != nil else {
                if format == .pcm { evenBytes(&chunk, into: &output) } else { output.writeBuffer(&chunk) }
                continue
            }
            var even = ByteBuffer()
            evenBytes(&chunk, into: &even)
            let count = even.readableBytes / 2
            if samples.count < count { samples = [Int16](repeating: 0, count: count) }
            // Little-endian s16 on a little-endian host: the bytes are the samples, copied to aligned storage.
            even.withUnsafeReadableBytes { raw in
                samples.withUnsafeMutableBytes { $0.copyMemory(from: UnsafeRawBufferPointer(rebasing: raw.prefix(count * 2))) }
            }
            pendingStart = 0
            pendingEnd = count
        }
        return output
    }

    public func finish() { result.finish() }

    private func dropHeader(_ chunk: inout ByteBuffer) {
        guard headerLeft > 0 else { return }
        let n = min(headerLeft, chunk.readableBytes)
        chunk.moveReaderIndex(forwardBy: n)
        headerLeft -= n
    }

    /// Appends whole samples only, keeping an odd last byte for the next chunk.
    private func evenBytes(_ chunk: inout ByteBuffer, into output: inout ByteBuffer) {
        if let first = carry, let second = chunk.readInteger(as: UInt8.self) {
            output.writeInteger(first)
            output.writeInteger(second)
            carry = nil
        }
        if chunk.readableBytes % 2 == 1 { carry = chunk.getInteger(at: chunk.writerIndex - 1, as: UInt8.self) }
        output.writeImmutableBuffer(chunk.getSlice(at: chunk.readerIndex, length: chunk.readableBytes & ~1)!)
    }

    private func finishing(_ body: () throws -> Void) throws {
        do { try body() } catch let error as EncoderError {
            throw GatewayError(500, "encoder_failed", "encoding \(format.rawValue) failed: \(error)")
        }
    }
}
