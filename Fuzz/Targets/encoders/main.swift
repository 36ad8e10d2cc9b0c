// The upstream's PCM as the encoders get it: any rate and channel count a WAV header may declare (what
// `WAVHeader.formatProblem` lets through), then arbitrary samples in arbitrary pieces. LAME, libopusenc and libFLAC
// must refuse what they cannot encode with an error, and never trap or write out of bounds.
import FuzzDriver
#if FUZZING
import Foundation
import NIOCore
@testable import VoiceGateCore

fuzz { data, count in
    let input = bytes(data, count)
    guard input.count >= 6 else { return 0 }
    let format = [SpeechFormat.mp3, .opus, .flac][Int(input[0]) % 3]
    let rate = 1000 + (Int(input[1]) << 16 | Int(input[2]) << 8 | Int(input[3])) % 767_001
    let channels = 1 + Int(input[4]) % 32
    let piece = 1 + Int(input[5]) * 37
    var samples = [Int16](repeating: 0, count: (input.count - 6) / 2)
    for i in samples.indices { samples[i] = Int16(bitPattern: UInt16(input[6 + 2 * i]) | UInt16(input[7 + 2 * i]) << 8) }
    do {
        guard let encoder = try format.makeEncoder(sampleRate: rate, channels: channels) else { return 0 }
        var out = ByteBuffer()
        var start = 0
        while start < samples.count {
            let end = min(samples.count, start + piece)
            try samples[start..<end].withUnsafeBufferPointer { try encoder.encode($0, into: &out) }
            start = end
        }
        try encoder.finish(into: &out)
    } catch is EncoderError {
    } catch {
        violated("failed with \(error), not an EncoderError")
    }
    return 0
}
#else
fuzz { _, _ in 0 }
#endif
