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
    private var sent = 0

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

    /// The next piece of the WAV file (header first), nil at the end. A cut upstream stream throws. With a known
    /// length exactly that many bytes come out: a response must never hold more or fewer than its Content-Length says.
    public func next() async throws -> ByteBuffer? {
        if let contentLength, sent >= contentLength { return nil }
        let next: ByteBuffer?
        do {
            next = try await reader.next()
        } catch let error as GatewayError {
            throw error
        } catch {
            throw GatewayError(502, "upstream_stream_cut", "the upstream stream ended early: \(error)")
        }
        guard var chunk = next else {
            if let contentLength, sent < contentLength {
                throw GatewayError(502, "upstream_stream_cut", "the upstream's answer ended after \(sent) of the \(contentLength) bytes its WAV header declares")
            }
            return nil
        }
        if let contentLength, sent + chunk.readableBytes > contentLength {
            chunk = chunk.getSlice(at: chunk.readerIndex, length: contentLength - sent)!
        }
        sent += chunk.readableBytes
        return chunk
    }

    /// Gives the upstream's place to the next request. Safe to call more than once.
    public func finish() {
        reader.close()
        lease?.release()
    }

    deinit { finish() }
}
