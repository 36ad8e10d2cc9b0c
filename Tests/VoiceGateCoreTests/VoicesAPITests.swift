import Foundation
import Testing
import SovitsDouble
@testable import VoiceGateCore

@Suite("Saved voices: /api/v1/voices and voice= on the seed's route")
struct VoicesAPITests {
    static func voicesFolder(_ t: TestGateway) -> String { t.gateway.voices.files.directory }

    static func files(_ folder: String) -> [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? []).filter { !$0.hasPrefix(".") }.sorted()
    }

    @Test func aVoiceIsMadeOnceListedServedAndSpokenWith() async throws {
        try await TestGateway.run { (t: TestGateway) async throws in
            let reference = TestAudio.wav(seconds: 4, frequency: 180)
            let made = try await t.makeVoice("anna", promptText: "Hello, I am Anna.", extra: ["prompt_language": "en", "description": "calm"],
                                             reference: reference)
            #expect(made.status == 201, "\(String(decoding: made.body, as: UTF8.self))")
            #expect(made.json["name"] as? String == "anna" && made.json["owner"] as? String == "default" && made.json["shared"] as? Bool == false)
            #expect(made.json["prompt_text"] as? String == "Hello, I am Anna." && made.json["prompt_language"] as? String == "en")
            #expect(made.json["format"] as? String == "wav" && made.json["duration_seconds"] as? Double == 4 && made.json["sample_rate"] as? Int == 16000)
            let hash = try #require(made.json["reference_sha256"] as? String)
            #expect(Self.files(Self.voicesFolder(t)) == ["\(hash).wav"])

            let list = try await t.request(.GET, "/api/v1/voices")
            #expect((list.json["voices"] as? [[String: Any]])?.map { $0["name"] as? String } == ["anna"])
            #expect(try await t.request(.GET, "/api/v1/voices/anna").json["description"] as? String == "calm")
            let audio = try await t.request(.GET, "/api/v1/voices/anna/audio")
            #expect(audio.status == 200 && audio.body == reference && audio.header("Content-Type") == "audio/wav")

            // voice= instead of reference_audio: the voice's recording, transcript and language reach GPT-SoVITS.
            var form = Multipart()
            form.field("text", "Speak, Anna.")
            form.field("voice", "anna")
            let spoken = try await t.synthesize(form)
            #expect(spoken.status == 200 && spoken.header("Content-Type") == "audio/wav")
            let body = try #require(t.double?.recorder.stats.bodies.last)
            #expect(body["ref_audio_path"]?.string?.hasSuffix("/voices/\(hash).wav") == true)
            #expect(body["prompt_text"]?.string == "Hello, I am Anna." && body["prompt_lang"]?.string == "en")

            var both = Multipart.synthesis()
            both.field("voice", "anna")
            #expect(try await t.synthesize(both).errorCode == "voice_and_reference")
            var unknown = Multipart()
            unknown.field("text", "Hi.")
            unknown.field("voice", "nobody")
            let refused = try await t.synthesize(unknown)
            #expect(refused.status == 400 && refused.errorCode == "unknown_voice")
            #expect((refused.json["details"] as? [String: Any])?["voices"] as? [String] == ["anna"])
            #expect((refused.json["message"] as? String)?.contains("anna") == true)
        }
    }

    @Test func badVoicesAreRefusedAndLeaveNothingBehind() async throws {
        try await TestGateway.run { (t: TestGateway) async throws in
            for (name, code) in [("../etc", "invalid_name"), ("a b", "invalid_name"), (String(repeating: "x", count: 65), "invalid_name"), ("", "missing_name")] {
                let r = try await t.makeVoice(name)
                #expect(r.status == 400 && r.errorCode == code, "\(name): \(r.status) \(r.errorCode ?? "")")
            }
            #expect(try await t.makeVoice("short", reference: TestAudio.wav(seconds: 2)).errorCode == "reference_too_short")
            #expect(try await t.makeVoice("noise", reference: Data(repeating: 7, count: 50_000)).errorCode == "unsupported_audio_format")
            #expect(try await t.makeVoice("quiet", promptText: "  ").errorCode == "missing_prompt_text")
            #expect(try await t.makeVoice("lang", extra: ["prompt_language": "klingon"]).errorCode == "unsupported_language")
            #expect(Self.files(Self.voicesFolder(t)).isEmpty)
            #expect(Self.files(Self.voicesFolder(t) + "/.incoming").isEmpty)

            #expect(try await t.makeVoice("bert").status == 201)
            let again = try await t.makeVoice("bert", reference: TestAudio.wav(seconds: 5))
            #expect(again.status == 409 && again.errorCode == "voice_exists")
            #expect(Self.files(Self.voicesFolder(t)).count == 1, "the refused second recording is not kept")
            #expect(try await t.request(.GET, "/api/v1/voices/..%2F..%2Fetc%2Fpasswd").status == 404)
            #expect(try await t.request(.GET, "/api/v1/voices/nobody/audio").status == 404)
            #expect(try await t.request(.GET, "/api/v1/voices", key: nil).status == 401)
        }
    }

    @Test func aVoiceIsItsOwnersUntilAnAdminSharesIt() async throws {
        try await TestGateway.run { (t: TestGateway) async throws in
            let alice = try await t.makeKey("alice")
            let bob = try await t.makeKey("bob")
            #expect(try await t.makeVoice("alices", key: alice).json["owner"] as? String == "alice")
            #expect(try await t.makeVoice("shared-try", key: alice, extra: ["shared": "true"]).status == 403)
            #expect(try await t.request(.GET, "/api/v1/voices/alices", key: bob).status == 404)
            #expect((try await t.request(.GET, "/api/v1/voices", key: bob).json["voices"] as? [Any])?.isEmpty == true)
            let hidden = try await t.speech(["model": "tts-1", "input": "Hi.", "voice": "alices"], bearer: bob)
            #expect(hidden.status == 400 && hidden.openAIError?["code"] as? String == "unknown_voice")

            #expect(try await t.request(.PATCH, "/api/v1/voices/alices", headers: [("Content-Type", "application/json")],
                                        body: Data(#"{"shared": true}"#.utf8), key: alice).status == 403)
            let shared = try await t.request(.PATCH, "/api/v1/voices/alices", headers: [("Content-Type", "application/json")],
                                             body: Data(#"{"shared": true}"#.utf8))
            #expect(shared.status == 200 && shared.json["shared"] as? Bool == true)
            #expect(try await t.speech(["model": "tts-1", "input": "Hi.", "voice": "alices", "response_format": "wav"], bearer: bob).status == 200)
            #expect(try await t.request(.DELETE, "/api/v1/voices/alices", key: bob).status == 403)
            #expect(try await t.request(.DELETE, "/api/v1/voices/alices", key: alice).status == 204)
            #expect(try await t.request(.GET, "/api/v1/voices/alices").status == 404)
            #expect(Self.files(Self.voicesFolder(t)).isEmpty)
        }
    }

    @Test func deletingAVoiceAQueuedRequestUsesDoesNotBreakIt() async throws {
        try await TestGateway.run { (t: TestGateway) async throws in
            #expect(try await t.makeVoice("fleeting").status == 201)
            let file = try #require(Self.files(Self.voicesFolder(t)).first)
            // The first request holds the upstream (the double holds it until let go); the second, on the voice,
            // waits in the queue.
            async let first = t.synthesize(.synthesis(text: "Hold the line. [hold]"))
            #expect(await eventually { t.gateway.service.queue.snapshot.running == 1 })
            async let second = t.speech(["model": "tts-1", "input": "Still here.", "voice": "fleeting", "response_format": "wav"])
            #expect(await eventually { t.gateway.voices.pins.isHeld("voices/" + file) })
            #expect(try await t.request(.DELETE, "/api/v1/voices/fleeting").status == 204)
            #expect(FileManager.default.fileExists(atPath: Self.voicesFolder(t) + "/" + file), "kept while the request needs it")
            t.double!.hold.release()
            let (a, b) = try await (first, second)
            #expect(a.status == 200 && b.status == 200, "\(String(decoding: b.body, as: UTF8.self))")
            #expect(await eventually { !FileManager.default.fileExists(atPath: Self.voicesFolder(t) + "/" + file) }, "removed once let go")
            #expect(try await t.speech(["model": "tts-1", "input": "Gone?", "voice": "fleeting"]).openAIError?["code"] as? String == "unknown_voice")
        }
    }

    @Test func aliasesNameSavedVoices() async throws {
        try await TestGateway.run(env: ["VOICE_ALIASES": "alloy=anna,nova=anna"]) { (t: TestGateway) async throws in
            #expect(try await t.makeVoice("anna").json["aliases"] as? [String] == ["alloy", "nova"])
            let r = try await t.speech(["model": "tts-1", "input": "Hello from alloy.", "voice": "alloy", "response_format": "wav"])
            #expect(r.status == 200)
            let voices = try await t.request(.GET, "/v1/audio/voices").json["voices"] as? [[String: String]]
            #expect(voices?.map { $0["id"] ?? "" } == ["anna", "alloy", "nova"])
        }
        #expect(throws: ConfigError.self) { try GatewayConfig.from(["VOICE_ALIASES": "alloy=../x"]) }
    }
}
