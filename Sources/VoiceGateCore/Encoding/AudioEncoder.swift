import NIOCore

/// Turns interleaved 16-bit PCM into one audio format as it arrives: whatever frames or pages are complete come
/// out of each call, the rest at `finish`. One encoder per response; not shared between tasks.
protocol AudioEncoder: AnyObject {
    /// Encodes `samples` (interleaved, all channels) and appends the bytes that are ready to `output`.
    func encode(_ samples: UnsafeBufferPointer<Int16>, into output: inout ByteBuffer) throws
    /// Flushes what is buffered and ends the stream.
    func finish(into output: inout ByteBuffer) throws
}

extension AudioEncoder {
    /// Encodes little-endian 16-bit PCM given as bytes (an odd last byte is left out).
    func encode(pcm bytes: some Collection<UInt8>, into output: inout ByteBuffer) throws {
        var samples = [Int16](repeating: 0, count: bytes.count / 2)
        samples.withUnsafeMutableBytes { $0.copyBytes(from: bytes.prefix($0.count)) }
        try samples.withUnsafeBufferPointer { try encode($0, into: &output) }
    }
}

/// An encoder library refused its settings or its input.
struct EncoderError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
