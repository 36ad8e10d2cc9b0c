import Foundation
import NIOCore
import Testing
@testable import VoiceGateCore

@Suite("Encoders: mp3, Ogg/Opus and FLAC from streamed PCM")
struct EncoderTests {
    /// A 220 Hz tone as s16 samples.
    static func tone(seconds: Double, rate: Int, channels: Int = 1) -> [Int16] {
        var samples: [Int16] = []
        for i in 0..<Int(seconds * Double(rate)) {
            let phase = 2 * Double.pi * 220 * Double(i) / Double(rate)
            let value = Int16(8000 * sin(phase))
            for _ in 0..<channels { samples.append(value) }
        }
        return samples
    }

    /// Encodes in uneven pieces, as an upstream's chunks arrive; returns each call's output size and the whole.
    static func encode(_ format: SpeechFormat, _ samples: [Int16], rate: Int, channels: Int = 1, piece: Int = 3001) throws -> ([Int], [UInt8]) {
        let encoder = try #require(try format.makeEncoder(sampleRate: rate, channels: channels))
        var sizes: [Int] = []
        var all = ByteBuffer()
        var start = 0
        while start < samples.count {
            let end = min(samples.count, start + piece * channels)
            var out = ByteBuffer()
            try samples[start..<end].withUnsafeBufferPointer { try encoder.encode($0, into: &out) }
            sizes.append(out.readableBytes)
            all.writeBuffer(&out)
            start = end
        }
        var tail = ByteBuffer()
        try encoder.finish(into: &tail)
        all.writeBuffer(&tail)
        return (sizes, Array(all.readableBytesView))
    }

    static func inspect(_ bytes: [UInt8], ext: String) throws -> AudioInfo {
        let path = NSTemporaryDirectory() + "encoded-\(UUID().uuidString).\(ext)"
        try Data(bytes).write(to: URL(fileURLWithPath: path))
        defer { try? FileManager.default.removeItem(atPath: path) }
        return try AudioInspector.inspect(path: path)
    }

    @Test(arguments: [32000, 24000, 22050, 48000])
    func mp3FramesComeOutAsThePCMGoesInAndLastAsLongAsIt(rate: Int) throws {
        let (sizes, bytes) = try Self.encode(.mp3, Self.tone(seconds: 2, rate: rate), rate: rate)
        #expect(sizes.dropFirst().allSatisfy { $0 > 0 }, "every piece after the first yields frames: \(sizes)")
        #expect(bytes[0] == 0xFF && bytes[1] & 0xE0 == 0xE0, "no tag: a stream starts with a frame")
        let info = try Self.inspect(bytes, ext: "mp3")
        #expect(info.format == .mp3 && info.sampleRate == rate && info.channels == 1)
        // LAME adds its encoder delay and pads the last frame: at most ~2 frames more.
        #expect(info.duration >= 2 && info.duration < 2.1, "\(info.duration)")
    }

    @Test(arguments: [32000, 24000, 22050, 48000])
    func opusPagesComeOutPromptlyAndKeepTheLength(rate: Int) throws {
        let (sizes, bytes) = try Self.encode(.opus, Self.tone(seconds: 2, rate: rate), rate: rate, piece: rate / 5)
        #expect(String(decoding: bytes.prefix(4), as: UTF8.self) == "OggS" && String(decoding: bytes[28..<36], as: UTF8.self) == "OpusHead")
        // 200 ms pieces against a 100 ms muxing delay: pages leave with (nearly) every piece, not at the end.
        #expect(sizes.filter { $0 > 0 }.count >= sizes.count - 2, "\(sizes)")
        let info = try Self.inspect(bytes, ext: "ogg")
        #expect(info.format == .ogg && abs(info.duration - 2) < 0.03, "\(info.duration)")
    }

    @Test func flacIsAStreamOfFramesWithTheRightRate() throws {
        let (_, bytes) = try Self.encode(.flac, Self.tone(seconds: 2, rate: 32000, channels: 2), rate: 32000, channels: 2)
        #expect(String(decoding: bytes.prefix(4), as: UTF8.self) == "fLaC")
        // STREAMINFO: sample rate in the 20 bits after the block sizes and frame sizes; 2 channels, 16 bits.
        let s = 8
        let rate = Int(bytes[s + 10]) << 12 | Int(bytes[s + 11]) << 4 | Int(bytes[s + 12]) >> 4
        #expect(rate == 32000 && (Int(bytes[s + 12]) >> 1 & 0x07) + 1 == 2)
        // Compressed well below 16-bit PCM (a pure tone), and the frames carry the 4096-sample blocks.
        #expect(bytes.count < 2 * 32000 * 2 * 2 / 2)
        let syncs = zip(bytes, bytes.dropFirst()).filter { $0 == 0xFF && $1 & 0xFE == 0xF8 }.count
        #expect(syncs >= 64000 / 4096)
    }

    @Test func aStereoMP3AndARefusedChannelCount() throws {
        let (_, bytes) = try Self.encode(.mp3, Self.tone(seconds: 1, rate: 44100, channels: 2), rate: 44100, channels: 2)
        #expect(try Self.inspect(bytes, ext: "mp3").channels == 2)
        #expect(throws: EncoderError.self) { try SpeechFormat.mp3.makeEncoder(sampleRate: 32000, channels: 3) }
    }

    /// fuzz-encoders' first find: libFLAC refuses 66536 Hz, and the refused encoder was deleted twice (a SEGV).
    @Test func aRefusedRateIsAnErrorNotACrash() throws {
        #expect(throws: EncoderError.self) { try SpeechFormat.flac.makeEncoder(sampleRate: 66536, channels: 1) }
        #expect(throws: EncoderError.self) { try SpeechFormat.flac.makeEncoder(sampleRate: 32000, channels: 9) }
        for format in [SpeechFormat.mp3, .opus] {
            for rate in [1000, 7999, 66536, 767_000] {
                // Resampled where the library can, refused (at start or at the first samples) where not; never a trap.
                guard let encoder = try? format.makeEncoder(sampleRate: rate, channels: 1) else { continue }
                var out = ByteBuffer()
                do {
                    try [Int16](repeating: 1000, count: 4000).withUnsafeBufferPointer { try encoder.encode($0, into: &out) }
                    try encoder.finish(into: &out)
                } catch is EncoderError {}
            }
        }
    }

    /// libsndfile (Python's soundfile) cannot read a FLAC whose STREAMINFO says 0 samples: a known length is written.
    @Test func aFLACOfKnownLengthSaysItInStreamInfo() throws {
        func totalSamples(_ flac: [UInt8]) -> Int {
            // "fLaC", a block header, then STREAMINFO: the 36-bit total starts 4 bits into its 14th byte.
            flac[22...25].reduce(Int(flac[21] & 0x0F)) { $0 << 8 | Int($1) }
        }
        let samples = Self.tone(seconds: 1, rate: 32000, channels: 1)
        for known in [true, false] {
            let encoder = try #require(try SpeechFormat.flac.makeEncoder(sampleRate: 32000, channels: 1, totalFrames: known ? samples.count : nil))
            var out = ByteBuffer()
            try samples.withUnsafeBufferPointer { try encoder.encode($0, into: &out) }
            try encoder.finish(into: &out)
            let bytes = Array(out.readableBytesView)
            #expect(bytes.prefix(4).elementsEqual("fLaC".utf8))
            #expect(totalSamples(bytes) == (known ? samples.count : 0))
        }
        // A whole file (the console's) always knows its length.
        let wav = WAVHeader.canonical(sampleRate: 32000, dataSize: samples.count * 2) + samples.withUnsafeBytes { Array($0) }
        #expect(totalSamples(try SpeechFormat.flac.encode(wav: wav)) == samples.count)
    }

    @Test func wavAndPCMPassThrough() throws {
        #expect(try SpeechFormat.wav.makeEncoder(sampleRate: 32000, channels: 1) == nil)
        #expect(SpeechFormat.pcm.contentType(sampleRate: 32000) == "audio/pcm;rate=32000")
        #expect(SpeechFormat.opus.contentType(sampleRate: 32000) == "audio/ogg" && SpeechFormat.opus.fileExtension == "ogg")
    }
}
