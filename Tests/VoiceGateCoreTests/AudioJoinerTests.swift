import Foundation
import Testing
@testable import VoiceGateCore

@Suite("Joining a job's items into one file")
struct AudioJoinerTests {
    static func folder() throws -> String {
        let folder = TestGateway.makeDataDir()
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        return folder
    }

    /// A 16-bit mono WAV of `ms` milliseconds whose every sample is `value`.
    static func item(_ folder: String, _ name: String, ms: Int, value: Int16, rate: Int = 8000) throws -> AudioJoiner.Item {
        let samples = [Int16](repeating: value, count: ms * rate / 1000)
        var bytes = WAVHeader.canonical(sampleRate: rate, dataSize: samples.count * 2)
        samples.withUnsafeBytes { bytes += $0 }
        let path = folder + "/" + name
        try Data(bytes).write(to: URL(fileURLWithPath: path))
        return try AudioJoiner.Item(path: path)
    }

    @Test func itemsLandAtTheirPlacesWithSilenceBetweenAndTheLengthIsKnown() throws {
        let folder = try Self.folder()
        let items = [try Self.item(folder, "0.wav", ms: 250, value: 1000), try Self.item(folder, "1.wav", ms: 500, value: -2000)]
        #expect(items.map(\.durationMs) == [250, 500])
        let placed = JobTimeline.sequential(durations: items.map(\.durationMs), pauseMs: 300)
        let size = try AudioJoiner.join(items, at: placed, format: .wav, to: folder + "/all.wav")
        let bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: folder + "/all.wav")))
        #expect(size == bytes.count)
        let header = try #require(WAVHeader.parse(bytes))
        #expect(header.sampleRate == 8000 && header.dataSize == 1050 * 8 * 2 && header.dataOffset + header.dataSize == bytes.count)
        let (samples, _) = try PCMDecoder.decodeWAV(bytes)
        // 0-250 ms the first item, 250-550 silence, 550-1050 the second.
        #expect(samples.count == 8400)
        #expect(samples[0..<2000].allSatisfy { $0 > 0 } && samples[2000..<4400].allSatisfy { $0 == 0 } && samples[4400...].allSatisfy { $0 < 0 })
    }

    @Test func aDubStartsWithTheFirstCuesSilenceAndEveryFormatCarriesItsLength() throws {
        let folder = try Self.folder()
        let items = [try Self.item(folder, "0.wav", ms: 400, value: 3000, rate: 32000)]
        let placed = JobTimeline.dubbed(cues: [SubtitleCue(start: 1000, end: 2000, text: "hi")], durations: [400])
        try AudioJoiner.join(items, at: placed, format: .wav, to: folder + "/dub.wav")
        let (samples, rate) = try PCMDecoder.decodeWAV([UInt8](try Data(contentsOf: URL(fileURLWithPath: folder + "/dub.wav"))))
        #expect(rate == 32000 && samples.count == 44800 && samples[..<32000].allSatisfy { $0 == 0 } && samples[32000...].allSatisfy { $0 > 0 })
        for format in [SpeechFormat.flac, .mp3, .opus] {
            let size = try AudioJoiner.join(items, at: placed, format: format, to: folder + "/dub.\(format.rawValue)")
            #expect(size > 100)
            let head = [UInt8](try Data(contentsOf: URL(fileURLWithPath: folder + "/dub.\(format.rawValue)")).prefix(34))
            if format == .flac { // STREAMINFO's total samples: the whole 1.4 s
                #expect(head[22...25].reduce(Int(head[21] & 0x0F)) { $0 << 8 | Int($1) } == 44800)
            }
        }
    }

    @Test func itemsOfDifferentRatesOrNotPCMAreRefusedWithAReason() throws {
        let folder = try Self.folder()
        let items = [try Self.item(folder, "a.wav", ms: 100, value: 1, rate: 8000), try Self.item(folder, "b.wav", ms: 100, value: 1, rate: 16000)]
        #expect(throws: AudioJoiner.JoinError.self) {
            try AudioJoiner.join(items, at: JobTimeline.sequential(durations: [100, 100], pauseMs: 0), format: .wav, to: folder + "/x.wav")
        }
        try Data("not a wav".utf8).write(to: URL(fileURLWithPath: folder + "/bad.wav"))
        #expect(throws: AudioJoiner.JoinError.self) { try AudioJoiner.Item(path: folder + "/bad.wav") }
    }
}
