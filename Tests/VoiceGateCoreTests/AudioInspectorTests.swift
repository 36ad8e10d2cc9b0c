import Foundation
import Testing
@testable import VoiceGateCore

@Suite("Audio format and duration from the container")
struct AudioInspectorTests {
    @Test(arguments: [("tone.flac", AudioFormat.flac, 4.5), ("tone.ogg", .ogg, 4.5), ("tone-cbr.mp3", .mp3, 4.571), ("tone-vbr.mp3", .mp3, 4.545)])
    func readsFixtures(name: String, format: AudioFormat, duration: Double) throws {
        let info = try AudioInspector.inspect(path: TestAudio.fixturePath(name))
        #expect(info.format == format)
        #expect(abs(info.duration - duration) < 0.06, "\(name): \(info.duration)")
    }

    @Test(arguments: ["tone-cbr.mp3", "tone-vbr.mp3"])
    func readsMP3BehindAnID3TagLargerThanTheHead(name: String) throws {
        let mp3 = try TestAudio.fixture(name)
        let tagSize = 300_000 // cover art, say
        let syncsafe: [UInt8] = [UInt8(tagSize >> 21 & 0x7F), UInt8(tagSize >> 14 & 0x7F), UInt8(tagSize >> 7 & 0x7F), UInt8(tagSize & 0x7F)]
        let tagged = Data(Array("ID3".utf8) + [4, 0, 0] + syncsafe + [UInt8](repeating: 0, count: tagSize)) + mp3
        let path = NSTemporaryDirectory() + "tagged-" + UUID().uuidString + ".mp3"
        try tagged.write(to: URL(fileURLWithPath: path))
        defer { try? FileManager.default.removeItem(atPath: path) }
        let plain = try AudioInspector.inspect(path: TestAudio.fixturePath(name))
        let info = try AudioInspector.inspect(path: path)
        #expect(info.format == .mp3)
        #expect(abs(info.duration - plain.duration) < 0.01, "\(info.duration) vs \(plain.duration)")
    }

    @Test func readsWAVExactly() throws {
        let data = [UInt8](TestAudio.wav(seconds: 3.2, sampleRate: 22050, channels: 2))
        let info = try AudioInspector.inspect(head: data, tail: data, fileSize: data.count)
        #expect(info == AudioInfo(format: .wav, duration: 3.2, sampleRate: 22050, channels: 2))
    }

    @Test func sniffsBytesNotNames() {
        #expect(AudioFormat.sniff(Array("RIFF\0\0\0\0WAVEfmt ".utf8)) == .wav)
        #expect(AudioFormat.sniff(Array("fLaC\0\0\0\"".utf8) + [0, 0, 0, 0]) == .flac)
        #expect(AudioFormat.sniff(Array("OggS".utf8) + [UInt8](repeating: 0, count: 8)) == .ogg)
        #expect(AudioFormat.sniff(Array("ID3".utf8) + [UInt8](repeating: 0, count: 9)) == .mp3)
        #expect(AudioFormat.sniff(Array("<html><body>hi</body>".utf8)) == nil)
        #expect(AudioFormat.sniff([0xFF, 0xFB, 0x00, 0x00] + [UInt8](repeating: 0, count: 8)) == nil) // invalid bitrate index
    }

    @Test func rejectsDamagedFiles() {
        let wav = [UInt8](TestAudio.wav(seconds: 1))
        #expect(throws: AudioInspectionError.self) { try AudioInspector.inspect(head: Array(wav.prefix(20)), tail: [], fileSize: 20) }
        let garbage = [UInt8](repeating: 0x41, count: 4096)
        #expect(throws: AudioInspectionError.self) { try AudioInspector.inspect(head: garbage, tail: garbage, fileSize: 4096) }
    }

    @Test func streamingWAVHeaderSizesFallBackToTheFileSize() throws {
        var wav = [UInt8](TestAudio.wav(seconds: 4, sampleRate: 16000))
        wav.replaceSubrange(40..<44, with: [0xFF, 0xFF, 0xFF, 0xFF])
        let info = try AudioInspector.inspect(head: wav, tail: wav, fileSize: wav.count)
        #expect(info.duration == 4)
    }

    @Test func canonicalHeaderRoundTrips() throws {
        let header = try #require(WAVHeader.parse(WAVHeader.canonical(sampleRate: 48000, dataSize: 96000)))
        #expect(header.sampleRate == 48000 && header.dataOffset == 44 && header.duration == 1)
        let streaming = try #require(WAVHeader.parse(WAVHeader.canonical(sampleRate: 32000, dataSize: nil)))
        #expect(streaming.dataSizeIsUnknown && streaming.duration == nil)
    }

    /// A header is trusted only as far as recordings go: every field a decoder relies on is checked.
    @Test func impossibleHeadersAreRefusedBeforeAnyEngineSeesThem() throws {
        let good = [UInt8](TestAudio.wav(seconds: 4, sampleRate: 16000))
        func patched(_ offset: Int, _ bytes: [UInt8]) -> [UInt8] {
            var b = good
            b.replaceSubrange(offset..<(offset + bytes.count), with: bytes)
            return b
        }
        func le32(_ v: Int) -> [UInt8] { (0..<4).map { UInt8(truncatingIfNeeded: v >> (8 * $0)) } }
        let wavs: [(String, [UInt8])] = [
            ("byte rate", patched(28, le32(12345))),
            ("frames", patched(32, [7, 0])),
            ("bits", patched(34, [7, 0])),
            ("channels", patched(22, [200, 0])),
            ("sample rate", patched(24, le32(3))),
            ("format tag", patched(20, [0x55, 0])),
        ]
        #expect(throws: Never.self) { try AudioInspector.inspect(head: good, tail: good, fileSize: good.count) }
        for (what, wav) in wavs {
            #expect(throws: AudioInspectionError.self, "WAV \(what)") { try AudioInspector.inspect(head: wav, tail: wav, fileSize: wav.count) }
        }
        let flac = [UInt8](try TestAudio.fixture("tone.flac"))
        #expect(throws: Never.self) { try AudioInspector.inspect(head: flac, tail: flac, fileSize: flac.count) }
        var tinyBlocks = flac
        tinyBlocks[8] = 0; tinyBlocks[9] = 1 // min block 1 sample
        var rate = flac
        rate[18] = 0xFF; rate[19] = 0xFF; rate[20] = (rate[20] & 0x0F) | 0xF0 // 1,048,575 Hz
        for (what, bad) in [("blocks", tinyBlocks), ("sample rate", rate)] {
            #expect(throws: AudioInspectionError.self, "FLAC \(what)") { try AudioInspector.inspect(head: bad, tail: bad, fileSize: bad.count) }
        }
    }
}
