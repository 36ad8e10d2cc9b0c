import NIOCore
#if canImport(Glibc)
import Glibc
#endif

/// Looks for a multipart delimiter (CRLF, "--", boundary) in raw bytes: whole, or begun at their end.
struct DelimiterSearch {
    let bytes: [UInt8]
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
}
