import NIOCore
#if canImport(Glibc)
import Glibc
#endif

/// Looks for a multipart delimiter (CRLF, "--", boundary) in raw bytes: whole, or begun at their end.
struct DelimiterSearch {
    let bytes: [UInt8]
    var count: Int { bytes.count }

    init(boundary: String) {
        bytes = Array("\r\n--\(boundary)".utf8)
    }

    /// How many leading bytes of the chunk come before any delimiter, or before a start of one at its end.
    /// memchr to each CR (a delimiter's only one: boundaries hold no CR), memcmp from there.
    func bodyLength(in chunk: ByteBuffer) -> Int {
        chunk.withUnsafeReadableBytes { raw in
            guard raw.count > 0 else { return 0 }
            return bytes.withUnsafeBytes { delimiter in
                let start = raw.baseAddress!, end = start + raw.count
                var cursor = start
                while cursor < end, let found = memchr(cursor, Int32(bytes[0]), end - cursor) {
                    let candidate = UnsafeRawPointer(found)
                    if memcmp(candidate, delimiter.baseAddress!, min(delimiter.count, end - candidate)) == 0 {
                        return candidate - start
                    }
                    cursor = candidate + 1
                }
                return raw.count
            }
        }
    }

    /// Whether the bytes seen so far end part-way into a delimiter (or right after a whole one).
    func isPending(after recent: RecentBytes) -> Bool {
        recent.bytes.withUnsafeBytes { endsWithStart($0) }
    }

    /// True when, for some k in 1...count, the last k bytes are the delimiter's first k.
    private func endsWithStart(_ raw: UnsafeRawBufferPointer) -> Bool {
        guard raw.count > 0 else { return false }
        let first = bytes[0]
        return bytes.withUnsafeBytes { delimiter in
            for start in max(0, raw.count - bytes.count)..<raw.count where raw[start] == first {
                if memcmp(raw.baseAddress! + start, delimiter.baseAddress!, raw.count - start) == 0 { return true }
            }
            return false
        }
    }
}
