import NIOCore

/// A single-consumer source of audio chunks with push-back, so the header can be read before the rest is streamed.
/// It is handed from the engine to exactly one reader at a time, hence `@unchecked Sendable`.
public final class ByteChunkReader: @unchecked Sendable {
    private var pulled: () async throws -> ByteBuffer?
    private var pushedBack: [ByteBuffer] = []
    private let onClose: @Sendable () -> Void
    private var closed = false
    /// The bytes the source said it would send in all (an upstream's Content-Length), when it said.
    public let declaredLength: Int?

    public init(declaredLength: Int? = nil, onClose: @escaping @Sendable () -> Void = {}, next: @escaping () async throws -> ByteBuffer?) {
        self.pulled = next
        self.onClose = onClose
        self.declaredLength = declaredLength
    }

    public convenience init<Source: AsyncSequence>(_ source: Source, declaredLength: Int? = nil, onClose: @escaping @Sendable () -> Void = {})
        where Source.Element == ByteBuffer {
        var iterator = source.makeAsyncIterator()
        self.init(declaredLength: declaredLength, onClose: onClose) { try await iterator.next() }
    }

    public func next() async throws -> ByteBuffer? {
        if !pushedBack.isEmpty { return pushedBack.removeFirst() }
        while true {
            guard var chunk = try await pulled() else { return nil }
            if chunk.readableBytes > 0 { return chunk }
            chunk.clear()
        }
    }

    /// Puts bytes back in front of what `next()` returns.
    public func pushBack(_ chunk: ByteBuffer) {
        if chunk.readableBytes > 0 { pushedBack.insert(chunk, at: 0) }
    }

    /// Releases whatever the source holds (a temporary file, a connection). Idempotent.
    public func close() {
        guard !closed else { return }
        closed = true
        pulled = { nil }
        onClose()
    }

    deinit { if !closed { onClose() } }
}
