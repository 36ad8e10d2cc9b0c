import Foundation
import Testing
@testable import VoiceGateCore

@Suite("The embedded espeak-ng engine, used when SOVITS_BASE_URL is not configured")
struct EmbeddedEngineTests {
    static func decode(_ r: TestResponse) throws -> (samples: [Float], rate: Int, duration: Double) {
        let decoded = try PCMDecoder.decodeWAV([UInt8](r.body))
        return (decoded.samples, decoded.sampleRate, Double(decoded.samples.count) / Double(decoded.sampleRate))
    }

    static func rms(_ x: [Float]) -> Float { (x.reduce(0) { $0 + $1 * $1 } / Float(max(1, x.count))).squareRoot() }

    @Test func speaksRealAudioThroughTheSamePath() async throws {
        try await TestGateway.run(upstream: .embedded) { t in
            let r = try await t.synthesize(.synthesis(text: "The embedded engine speaks this sentence.", extra: ["language": "en"]))
            #expect(r.status == 200)
            #expect(r.header("X-Engine") == "espeak-ng (embedded)")
            let audio = try Self.decode(r)
            #expect(r.header("X-Audio-Duration") == SynthesizeController.formatDuration(audio.duration))
            #expect(r.header("X-Sample-Rate") == String(audio.rate))
            #expect(audio.duration > 1)
            #expect(Self.rms(audio.samples) > 0.02, "speech has energy")
            #expect(await eventually { t.gateway.log.events().last?.status == 200 })
        }
    }

    @Test func durationFollowsTextAndSpeed() async throws {
        try await TestGateway.run(upstream: .embedded) { t in
            let short = try Self.decode(try await t.synthesize(.synthesis(text: "A short sentence.")))
            let long = try Self.decode(try await t.synthesize(.synthesis(text: "A much longer sentence, with many more words in it, takes clearly longer to say out loud.")))
            let fast = try Self.decode(try await t.synthesize(.synthesis(text: "A much longer sentence, with many more words in it, takes clearly longer to say out loud.",
                                                                          extra: ["speed": "2.0"])))
            #expect(long.duration > short.duration * 2)
            #expect(fast.duration < long.duration * 0.7)
        }
    }

    @Test func pitchFollowsTheReferenceSpeaker() async throws {
        try await TestGateway.run(upstream: .embedded) { t in
            let text = "Pitch should follow the voice of the reference recording."
            let low = try Self.decode(try await t.synthesize(.synthesis(text: text, reference: TestAudio.wav(seconds: 4, frequency: 85))))
            let high = try Self.decode(try await t.synthesize(.synthesis(text: text, reference: TestAudio.wav(seconds: 4, frequency: 240))))
            let lowF0 = try #require(PitchEstimator.medianF0(samples: low.samples, sampleRate: low.rate))
            let highF0 = try #require(PitchEstimator.medianF0(samples: high.samples, sampleRate: high.rate))
            #expect(lowF0 < 110, "low reference gave \(lowF0) Hz")
            #expect(highF0 > 180, "high reference gave \(highF0) Hz")
        }
    }

    @Test func pitchIsReadFromCompressedReferencesToo() async throws {
        // tone.flac and tone.ogg are 220 Hz tones; sox (installed by CI) decodes them.
        for name in ["tone.flac", "tone.ogg"] {
            let info = try AudioInspector.inspect(path: TestAudio.fixturePath(name))
            let f0 = await EspeakEngine.referenceF0(StoredReference(fileName: name, localPath: TestAudio.fixturePath(name), info: info))
            #expect(f0.map { abs($0 - 220) < 10 } == true, "\(name): \(String(describing: f0))")
        }
    }

    @Test func speaksOtherLanguages() async throws {
        try await TestGateway.run(upstream: .embedded) { t in
            for (text, language) in [("你好，世界。今天天气很好。", "zh"), ("こんにちは、世界。", "ja"), ("Bonjour tout le monde", "auto")] {
                let r = try await t.synthesize(.synthesis(text: text, extra: ["language": language]))
                #expect(r.status == 200)
                #expect(Self.rms(try Self.decode(r).samples) > 0.02)
            }
        }
    }

    @Test func healthNamesTheEngine() async throws {
        try await TestGateway.run(upstream: .embedded) { t in
            #expect(await eventually { t.gateway.monitor.snapshot.upstream.word == "up" })
            let health = try await t.request(.GET, "/health", key: nil)
            #expect(health.json["engine"] as? String == "espeak-ng (embedded)")
            #expect(health.json["status"] as? String == "healthy")
            let voice = try await t.request(.GET, "/api/v1/voice/health")
            #expect(voice.json["hint"] as? String == "set SOVITS_BASE_URL for GPT-SoVITS")
            #expect(voice.json["api"] == nil)
        }
    }

    @Test func missingEspeakIsUnhealthyAnd503WithTheInstallCommand() async throws {
        try await TestGateway.run(upstream: .embedded, env: ["ESPEAK_COMMAND": "/nonexistent/espeak-ng"]) { t in
            #expect(await eventually { t.gateway.healthReport().status == .unhealthy })
            let health = try await t.request(.GET, "/health", key: nil)
            #expect(health.status == 503)
            #expect((health.json["message"] as? String)?.contains("apt-get install espeak-ng") == true)
            let r = try await t.synthesize(.synthesis())
            #expect(r.status == 503)
            #expect(r.errorCode == "engine_unavailable")
            #expect((r.json["message"] as? String)?.contains("apt-get install espeak-ng") == true)
        }
    }

    @Test func voiceSelection() {
        #expect(EspeakVoice(language: "zh", text: "x", speed: 1, referenceF0: nil).voice == "cmn")
        #expect(EspeakVoice(language: "auto", text: "これはテスト", speed: 1, referenceF0: nil).voice == "ja")
        #expect(EspeakVoice(language: "auto", text: "안녕하세요", speed: 1, referenceF0: nil).voice == "ko")
        #expect(EspeakVoice(language: "auto", text: "你好", speed: 1, referenceF0: nil).voice == "cmn")
        #expect(EspeakVoice(language: "auto", text: "hello", speed: 1, referenceF0: nil).voice == "en")
        #expect(EspeakVoice(language: "en", text: "x", speed: 2, referenceF0: nil).wordsPerMinute == 350)
        let female = EspeakVoice(language: "en", text: "x", speed: 1, referenceF0: 214)
        #expect(female.voice == "en+f3" && female.pitch == 50)
        #expect(EspeakVoice(language: "en", text: "x", speed: 1, referenceF0: 40).pitch == 0)
    }

    @Test func theShippedSampleVoiceIsAValidReference() throws {
        let bytes = [UInt8](EmbeddedAssets.sampleVoice)
        let info = try AudioInspector.inspect(head: bytes, tail: bytes, fileSize: bytes.count)
        #expect(info.format == .wav)
        #expect(info.duration >= 3 && info.duration <= 10)
    }
}
