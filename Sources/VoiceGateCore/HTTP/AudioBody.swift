import Hummingbird
import NIOCore

/// A synthesis's response body: pieces written as they come, then the upstream's place and the key's permit let go,
/// the permit counting the request failed unless every piece went out.
enum AudioBody {
    static func make(contentLength: Int? = nil, permit: UsagePermit?, finish: @escaping @Sendable () -> Void,
                     next: @escaping @Sendable () async throws -> ByteBuffer?) -> ResponseBody {
        ResponseBody(contentLength: contentLength) { writer in
            var completed = false
            defer {
                finish()
                permit?.release(failed: !completed)
            }
            while let piece = try await next() {
                try await writer.write(piece)
            }
            try await writer.finish(nil)
            completed = true
        }
    }
}
