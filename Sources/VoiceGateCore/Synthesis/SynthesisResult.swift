import NIOCore

/// A synthesis that has started producing audio: its WAV header is known, the rest streams from `next()`.
/// Holding it holds the upstream's place in the queue until `finish()`.
public final class SynthesisResult: @unchecked Sendable {
    public let header: WAVHeader
    /// Exact duration from the WAV header; nil for streams, whose length is not known in advance.
    public let duration: Double?
    /// Bytes the body will have, when known.
    public let contentLength: Int?
    public let queueWait: Double
    /// From leaving the queue to the first audio bytes.
    public let upstreamTime: Double
    public let streaming: Bool
    private let reader: ByteChunkReader
    private let lease: QueueLease?

    init(header: WAVHeader, contentLength: Int?, queueWait: Double, upstreamTime: Double, streaming: Bool,
         reader: ByteChunkReader, lease: QueueLease?) {
        self.header = header
        self.duration = streaming ? nil : header.duration
        self.contentLength = contentLength
        self.queueWait = queueWait
        self.upstreamTime = upstreamTime
        self.streaming = streaming
        self.reader = reader
        self.lease = lease
    }

    public var sampleRate: Int { header.sampleRate }

    /// The next piece of the WAV file (header first), nil at the end. A cut upstream stream throws.
    public func next() async throws -> ByteBuffer? {
        do {
            return try await reader.next()
        } catch let error as GatewayError {
            throw error
        } catch {
            throw GatewayError(502, "upstream_stream_cut", "the upstream stream ended early: \(error)")
        }
    }

    /// Gives the upstream's place to the next request. Safe to call more than once.
    public func finish() {
        reader.close()
        lease?.release()
    }

    deinit { finish() }
}
