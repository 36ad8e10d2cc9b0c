// What an upstream answers, as the gateway reads it: the WAV header found across arbitrary chunks, checked
// (format, sizes against the answer's Content-Length, the 16 kHz failure silence), then the body passed on.
// Input: [mode] [chunking seed] [the answer's bytes]. mode bit 0: a stream; bits 1-2: no Content-Length, the
// exact one, one short, one long. Every failure is a 502 of the gateway's own; a known length is sent exactly.
import FuzzDriver
#if FUZZING
import Dispatch
import NIOCore
@testable import VoiceGateCore

enum UpstreamWAVTarget {
    static func run(_ input: UnsafeRawBufferPointer) {
        guard input.count >= 2 else { return }
        let streaming = input[0] & 1 == 1
        let answer = Array(input[2...])
        let declared: Int? = switch (input[0] >> 1) & 3 {
        case 0: nil
        case 1: answer.count
        case 2: max(0, answer.count - 1)
        default: answer.count + 1
        }
        let size = 1 + Int(input[1])
        var offset = 0
        let reader = ByteChunkReader(declaredLength: declared) {
            guard offset < answer.count else { return nil }
            let n = min(size, answer.count - offset)
            defer { offset += n }
            return ByteBuffer(bytes: answer[offset..<offset + n])
        }
        blocking {
            do {
                let (header, length) = try await SynthesisService.readHeader(reader, streaming: streaming)
                let result = SynthesisResult(header: header, contentLength: length, queueWait: 0, upstreamTime: 0,
                                             streaming: streaming, reader: reader, lease: nil)
                var sent = 0
                do {
                    while let chunk = try await result.next() { sent += chunk.readableBytes }
                    if let length, sent != length { violated("sent \(sent) bytes of a \(length)-byte answer") }
                } catch let error as GatewayError {
                    if error.code != "upstream_stream_cut" { violated("the body failed with \(error.code)") }
                    if let length, sent >= length { violated("a cut after all \(length) bytes") }
                }
                result.finish()
            } catch let error as GatewayError {
                if error.statusCode != 502 { violated("an answer was mapped to \(error.statusCode) \(error.code)") }
            } catch {
                violated("an error that is not the gateway's: \(error)")
            }
        }
    }

    /// Runs async code to its end on the cooperative pool (no event loop in a fuzz target).
    static func blocking(_ body: @escaping @Sendable () async -> Void) {
        let done = DispatchSemaphore(value: 0)
        Task {
            await body()
            done.signal()
        }
        done.wait()
    }
}

fuzz { data, count in
    UpstreamWAVTarget.run(bytes(data, count))
    return 0
}
#else
fuzz { _, _ in 0 }
#endif
