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
    private let lease: WorkerLease?
    private let trace: SynthesisTrace?
    private let leftQueue: ContinuousClock.Instant
    private var sent = 0
    /// The upstream's answer is all in (the last piece may not have been handed out yet): its worker is free.
    public private(set) var isAnswered = false

    init(header: WAVHeader, contentLength: Int?, queueWait: Double, upstreamTime: Double, streaming: Bool,
         reader: ByteChunkReader, lease: WorkerLease?, trace: SynthesisTrace? = nil, leftQueue: ContinuousClock.Instant = .now) {
        self.header = header
        self.duration = streaming ? nil : header.duration
        self.contentLength = contentLength
        self.queueWait = queueWait
        self.upstreamTime = upstreamTime
        self.streaming = streaming
        self.reader = reader
        self.lease = lease
        self.trace = trace
        self.leftQueue = leftQueue
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
            lease?.release(.failed)
            throw error
        } catch {
            lease?.release(.failed)
            throw GatewayError(502, "upstream_stream_cut", "the upstream stream ended early: \(error)")
        }
        guard var chunk = next else {
            if let contentLength, sent < contentLength {
                lease?.release(.failed)
                throw GatewayError(502, "upstream_stream_cut", "the upstream's answer ended after \(sent) of the \(contentLength) bytes its WAV header declares")
            }
            noteEnd()
            return nil
        }
        if sent == 0, let trace {
            let now = ContinuousClock.now
            trace.update { $0.timeToFirstByte = (now - trace.arrived).seconds }
        }
        if let contentLength, sent + chunk.readableBytes > contentLength {
            chunk = chunk.getSlice(at: chunk.readerIndex, length: contentLength - sent)!
        }
        sent += chunk.readableBytes
        if let contentLength, sent >= contentLength { noteEnd() }
        return chunk
    }

    /// Seconds of audio in what has been handed out so far.
    public var audioSecondsSent: Double {
        // A stream's header is the canonical one written in place of the upstream's.
        let offset = streaming ? WAVHeader.canonicalLength : header.dataOffset
        return Double(max(0, sent - offset)) / Double(max(1, header.byteRate))
    }

    /// The upstream's answer is over: its worker takes the next request now, before this one is written out.
    private func noteEnd() {
        isAnswered = true
        lease?.release(.done)
        guard let trace else { return }
        let upstream = (ContinuousClock.now - leftQueue).seconds
        let audio = audioSecondsSent
        trace.update {
            $0.upstreamTime = upstream
            $0.audioSeconds = audio
        }
    }

    /// Gives the upstream's place to the next request. Safe to call more than once.
    public func finish() {
        reader.close()
        lease?.release(.abandoned)
    }

    deinit { finish() }
}
