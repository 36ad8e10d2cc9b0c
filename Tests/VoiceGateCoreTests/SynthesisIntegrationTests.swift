import Foundation
import SovitsDouble
import Testing
@testable import VoiceGateCore

@Suite("Synthesis against the GPT-SoVITS api_v2 double, over real sockets")
struct SynthesisIntegrationTests {
    @Test func synthesizesAndReportsExactDurationFromTheWAVHeader() async throws {
        try await TestGateway.run { t in
            let r = try await t.synthesize(.synthesis(text: "Hello there. This is a test.", extra: ["language": "EN", "speed": "1.25"]))
            #expect(r.status == 200)
            #expect(r.header("Content-Type") == "audio/wav")
            #expect(r.header("Content-Disposition") == "attachment; filename=\"synthesized.wav\"")
            #expect(r.header("X-Sample-Rate") == "32000")
            #expect(r.header("X-Request-ID")?.count == 16)
            #expect(r.header("Server-Timing")?.contains("queue;dur=") == true)
            #expect(r.header("Server-Timing")?.contains("upstream;dur=") == true)
            let header = try #require(WAVHeader.parse([UInt8](r.body.prefix(64))))
            #expect(header.sampleRate == 32000)
            #expect(header.dataOffset + header.dataSize == r.body.count)
            let exact = Double(header.dataSize) / Double(header.byteRate)
            #expect(r.header("X-Audio-Duration") == SynthesizeController.formatDuration(exact))
        }
    }

    @Test func mapsTheRequestToExplicitLowercaseTTSFields() async throws {
        try await TestGateway.run { t in
            let r = try await t.synthesize(.synthesis(extra: ["language": "EN", "temperature": "0.4", "prompt_text": "Reference words.",
                                                              "prompt_language": "ZH", "seed": "42"]))
            #expect(r.status == 200)
            let body = try #require(t.double?.recorder.stats.bodies.last)
            #expect(body["text_lang"] == .string("en"))
            #expect(body["prompt_lang"] == .string("zh"))
            #expect(body["prompt_text"] == .string("Reference words."))
            #expect(body["temperature"] == .number(0.4))
            #expect(body["seed"] == .number(42))
            #expect(body["batch_size"] == .number(1))
            #expect(body["media_type"] == .string("wav"))
            #expect(body["streaming_mode"] == .bool(false))
            #expect(!body.values.contains(.null))
            #expect(body["aux_ref_audio_paths"] == nil)
            let path = try #require(body["ref_audio_path"]?.string)
            #expect(path.hasPrefix(t.gateway.config.absoluteRefDir + "/"))
            #expect(FileManager.default.fileExists(atPath: path))
            #expect(t.double?.recorder.stats.violations.isEmpty == true)
        }
    }

    @Test func promptLanguageDefaultsToTheTextLanguage() async throws {
        try await TestGateway.run { t in
            _ = try await t.synthesize(.synthesis(extra: ["language": "ja"]))
            let body = try #require(t.double?.recorder.stats.bodies.last)
            #expect(body["prompt_lang"] == .string("ja"))
            #expect(body["prompt_text"] == .string(""))
        }
    }

    @Test func equalUploadsShareOnePathAndDifferentAudioNever() async throws {
        try await TestGateway.run { t in
            let a = TestAudio.wav(seconds: 4, frequency: 200)
            let b = TestAudio.wav(seconds: 4, frequency: 300)
            for reference in [a, a, b] {
                #expect(try await t.synthesize(.synthesis(reference: reference)).status == 200)
            }
            let paths = t.double!.recorder.stats.bodies.compactMap { $0["ref_audio_path"]?.string }
            #expect(paths.count == 3)
            #expect(paths[0] == paths[1])
            #expect(paths[0] != paths[2])
            let stored = try FileManager.default.contentsOfDirectory(atPath: t.gateway.config.absoluteRefDir).filter { $0.hasSuffix(".wav") }
            #expect(stored.count == 2)
        }
    }

    @Test func referencePathIsTranslatedToHowTheUpstreamSeesIt() async throws {
        try await TestGateway.run(env: ["SOVITS_REF_PATH": "/shared/refs"]) { t in
            _ = try await t.synthesize(.synthesis())
            let path = try #require(t.double?.recorder.stats.bodies.last?["ref_audio_path"]?.string)
            #expect(path.hasPrefix("/shared/refs/"))
            #expect(path.hasSuffix(".wav"))
        }
    }

    @Test func acceptsFLACOggAndMP3References() async throws {
        try await TestGateway.run { t in
            for name in ["tone.flac", "tone.ogg", "tone-cbr.mp3", "tone-vbr.mp3"] {
                let r = try await t.synthesize(.synthesis(reference: try TestAudio.fixture(name)))
                #expect(r.status == 200, "\(name): \(String(decoding: r.body.prefix(300), as: UTF8.self))")
            }
            let paths = t.double!.recorder.stats.bodies.compactMap { $0["ref_audio_path"]?.string }
            #expect(paths.map { ($0 as NSString).pathExtension } == ["flac", "ogg", "mp3", "mp3"])
        }
    }

    @Test func neverSendsMoreThanOneRequestAtATimeToTheUpstream() async throws {
        var options = SovitsDoubleOptions()
        options.inferenceDelay = .milliseconds(150)
        try await TestGateway.run(upstream: .double(options)) { t in
            let answers = try await withThrowingTaskGroup(of: TestResponse.self) { group in
                for i in 0..<6 {
                    group.addTask {
                        try await t.synthesize(.synthesis(text: "Request number \(i).", extra: ["stream": i.isMultiple(of: 2) ? "true" : "false"]))
                    }
                }
                return try await group.reduce(into: []) { $0.append($1) }
            }
            let statuses = answers.map(\.status)
            #expect(statuses == Array(repeating: 200, count: 6), "\(answers.filter { $0.status != 200 }.map { String(decoding: $0.body, as: UTF8.self) })")
            #expect(t.double?.recorder.stats.ttsRequests == 6)
            #expect(t.double?.recorder.stats.maxOverlap == 1)
        }
    }

    @Test func streamsWithAHeaderPlayersAcceptAndNoDuration() async throws {
        try await TestGateway.run { t in
            let r = try await t.synthesize(.synthesis(text: "First part. Second part. Third part.", extra: ["stream": "true"]))
            #expect(r.status == 200)
            #expect(r.header("X-Audio-Duration") == nil)
            #expect(r.header("X-Sample-Rate") == "32000")
            #expect(r.header("Content-Length") == nil)
            let header = try #require(WAVHeader.parse([UInt8](r.body.prefix(44))))
            #expect(header.dataSize == 0xFFFF_FFFF)
            #expect(Array(r.body[4..<8]) == [0xFF, 0xFF, 0xFF, 0xFF])
            #expect(r.body.count > 44 + 32000) // three segments of audio followed the header
            #expect(t.double?.recorder.stats.bodies.last?["streaming_mode"] == .bool(true))
        }
    }
}
