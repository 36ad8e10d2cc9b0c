import NIOCore

/// The last `capacity` bytes of a stream, copying no more than that from each chunk.
struct RecentBytes {
    let capacity: Int
    private(set) var bytes: [UInt8] = []

    init(capacity: Int) {
        self.capacity = capacity
        bytes.reserveCapacity(capacity * 2)
    }

    mutating func append(_ chunk: ByteBuffer) {
        let n = chunk.readableBytes
        if n >= capacity {
            bytes = chunk.getBytes(at: chunk.readerIndex + n - capacity, length: capacity)!
        } else {
            bytes.append(contentsOf: chunk.readableBytesView)
            if bytes.count > capacity { bytes.removeFirst(bytes.count - capacity) }
        }
    }

    func contains(_ pattern: [UInt8]) -> Bool {
        guard bytes.count >= pattern.count else { return false }
        return (0...(bytes.count - pattern.count)).contains { bytes[$0..<$0 + pattern.count].elementsEqual(pattern) }
    }
}
