import Foundation
import Testing
@testable import VoiceGateCore

@Suite("OpenAI's /v1/audio/speech and what real clients send")
struct OpenAISpeechTests {
    static let text = "Hello there, this is a test."
    /// The double's length for `text` at speed 1: two segments of 0.06 s a character, each followed by 0.3 s.
    static let seconds = (11 + 15) * 0.06 + 0.6

    static func inspect(_ data: Data, ext: String) throws -> AudioInfo {
        try EncoderTests.inspect([UInt8](data), ext: ext)
    }

    static func withVoice(env: [String: String] = [:], _ body: @escaping @Sendable (TestGateway) async throws -> Void) async throws {
        try await TestGateway.run(env: env) { (t: TestGateway) async throws in
            let made = try await t.makeVoice("anna")
            #expect(made.status == 201)
            try await body(t)
        }
    }

    @Test func everyFormatIsRealAudioOfTheRightLength() async throws {
        try await Self.withVoice { t in
            for format in ["mp3", "opus", "flac", "wav", "pcm"] {
                let r = try await t.speech(["model": "tts-1", "input": Self.text, "voice": "anna", "response_format": format])
                #expect(r.status == 200, "\(format): \(String(decoding: r.body.prefix(300), as: UTF8.self))")
                let type = r.header("Content-Type")
                switch format {
                case "mp3":
                    #expect(type == "audio/mpeg")
                    let info = try Self.inspect(r.body, ext: "mp3")
                    #expect(info.sampleRate == 32000 && abs(info.duration - Self.seconds) < 0.1, "\(info)")
                case "opus":
                    #expect(type == "audio/ogg")
                    #expect(abs(try Self.inspect(r.body, ext: "ogg").duration - Self.seconds) < 0.05)
                case "flac":
                    #expect(type == "audio/flac" && r.body.prefix(4) == Data("fLaC".utf8))
                case "wav":
                    let header = try #require(WAVHeader.parse([UInt8](r.body.prefix(44))))
                    #expect(type == "audio/wav" && header.sampleRate == 32000)
                    #expect(abs(Double(r.body.count - 44) / 64000 - Self.seconds) < 0.01)
                default:
                    #expect(type == "audio/pcm;rate=32000")
                    #expect(abs(Double(r.body.count) / 64000 - Self.seconds) < 0.01 && r.body.count % 2 == 0)
                }
            }
            // Always streamed from the upstream, so the first encoded bytes leave with its first piece.
            #expect(t.double?.recorder.stats.bodies.last?["streaming_mode"]?.bool == true)
        }
    }

    @Test func speedIsClampedIntoTheEnginesRange() async throws {
        try await Self.withVoice { t in
            for (asked, sent) in [(4.0, 2.0), (0.25, 0.5), (1.5, 1.5), (1.0, 1.0)] {
                let r = try await t.speech(["model": "tts-1", "input": "Quick.", "voice": "anna", "speed": asked, "response_format": "pcm"])
                #expect(r.status == 200)
                #expect(t.double?.recorder.stats.bodies.last?["speed_factor"]?.number == sent, "\(asked)")
            }
        }
    }

    @Test func theBodiesOpenWebUISillyTavernAndHomeAssistantSend() async throws {
        try await Self.withVoice { t in
            // Open WebUI: no response_format (it saves the answer as .mp3), its own extra fields.
            let webui = try await t.speech(["input": Self.text, "voice": "anna", "model": "tts-1", "extra_param": 1])
            #expect(webui.status == 200 && webui.header("Content-Type") == "audio/mpeg")
            #expect(try Self.inspect(webui.body, ext: "mp3").format == .mp3)
            // SillyTavern: mp3, speed, and with no key configured an empty bearer token.
            let tavern = ["input": Self.text, "response_format": "mp3", "voice": "anna", "speed": 1, "model": "tts-1"] as [String: Any]
            #expect(try await t.speech(tavern).status == 200)
            let empty = try await t.request(.POST, "/v1/audio/speech", headers: [("Content-Type", "application/json"), ("Authorization", "Bearer ")],
                                            body: try JSONSerialization.data(withJSONObject: tavern), key: nil)
            #expect(empty.status == 401 && empty.openAIError?["type"] as? String == "authentication_error")
            // Home Assistant through the official SDK: instructions "None", opus, Accept: application/octet-stream.
            let ha = try await t.speech(["model": "tts-1", "voice": "anna", "input": Self.text, "instructions": "None", "speed": 1.0,
                                         "response_format": "opus"], headers: [("Accept", "application/octet-stream")])
            #expect(ha.status == 200 && ha.header("Content-Type") == "audio/ogg")
            #expect(try Self.inspect(ha.body, ext: "ogg").format == .ogg)
            // X-API-Key works as well as the bearer token.
            let xkey = try await t.request(.POST, "/v1/audio/speech", headers: [("Content-Type", "application/json")],
                                           body: try JSONSerialization.data(withJSONObject: tavern))
            #expect(xkey.status == 200)
            // The voice as an object, OpenAI's custom-voice form.
            #expect(try await t.speech(["model": "x", "input": "Hi.", "voice": ["id": "anna"], "response_format": "wav"]).status == 200)
        }
    }

    @Test func errorsSpeakOpenAIsShape() async throws {
        try await Self.withVoice { t in
            let cases: [([String: Any], Int, String, String?)] = [
                (["model": "tts-1", "input": "Hi.", "voice": "anna", "response_format": "aac"], 400, "unsupported_format", "response_format"),
                (["model": "tts-1", "input": "Hi.", "voice": "anna", "response_format": "ogg"], 400, "unsupported_format", "response_format"),
                (["model": "tts-1", "input": "Hi.", "voice": "nobody"], 400, "unknown_voice", "voice"),
                (["model": "tts-1", "input": String(repeating: "a", count: 4097), "voice": "anna"], 400, "text_too_long", "input"),
                (["model": "tts-1", "input": "   ", "voice": "anna"], 400, "empty_text", "input"),
                (["model": "tts-1", "input": "Hi.", "voice": "anna", "speed": 5], 400, "invalid_speed", "speed"),
                (["model": "tts-1", "input": "Hi.", "voice": "anna", "speed": "fast"], 400, "invalid_field", "speed"),
                (["input": "Hi.", "voice": "anna"], 400, "missing_model", "model"),
                (["model": "tts-1", "input": "Hi."], 400, "missing_voice", "voice"),
                (["model": "tts-1", "voice": "anna"], 400, "missing_input", "input"),
                (["model": "tts-1", "input": "Hi.", "voice": "anna", "stream_format": "chunks"], 400, "invalid_stream_format", "stream_format"),
            ]
            for (body, status, code, param) in cases {
                let r = try await t.speech(body)
                let error = try #require(r.openAIError, "\(body): \(String(decoding: r.body, as: UTF8.self))")
                #expect(r.status == status && error["code"] as? String == code, "\(body): \(error)")
                #expect(error["param"] as? String == param && error["type"] as? String == "invalid_request_error")
                #expect(Set(error.keys) == ["message", "type", "param", "code"])
            }
            let aac = try await t.speech(["model": "tts-1", "input": "Hi.", "voice": "anna", "response_format": "aac"])
            #expect((aac.openAIError?["message"] as? String)?.contains("mp3, opus, flac, wav, pcm") == true)
            let notJSON = try await t.request(.POST, "/v1/audio/speech", headers: [("Content-Type", "application/json")], body: Data("{".utf8))
            #expect(notJSON.status == 400 && notJSON.openAIError?["code"] as? String == "invalid_json" && notJSON.openAIError?.keys.contains("param") == true)
            let noKey = try await t.speech(["model": "tts-1", "input": "Hi.", "voice": "anna"], bearer: nil)
            #expect(noKey.status == 401 && noKey.openAIError != nil)
            let wrong = try await t.speech(["model": "tts-1", "input": "Hi.", "voice": "anna"], bearer: "not-a-key")
            #expect(wrong.status == 401)
            let unknownRoute = try await t.request(.GET, "/v1/nothing")
            #expect(unknownRoute.status == 404 && unknownRoute.openAIError != nil)
        }
    }

    @Test func aSpentQuotaTellsTheOfficialClientNotToRetry() async throws {
        try await Self.withVoice { t in
            let key = try await t.makeKey("small", limits: ["characters_per_day": 20])
            #expect(try await t.speech(["model": "tts-1", "input": "Twelve chars", "voice": "anna", "response_format": "wav"], bearer: key).status == 400,
                    "the voice is the admin's and not shared")
            _ = try await t.request(.PATCH, "/api/v1/voices/anna", headers: [("Content-Type", "application/json")], body: Data(#"{"shared":true}"#.utf8))
            #expect(try await t.speech(["model": "tts-1", "input": "Twelve chars", "voice": "anna", "response_format": "wav"], bearer: key).status == 200)
            let spent = try await t.speech(["model": "tts-1", "input": "Twelve more.", "voice": "anna"], bearer: key)
            #expect(spent.status == 429 && spent.openAIError?["code"] as? String == "quota_exceeded")
            #expect(spent.openAIError?["type"] as? String == "insufficient_quota")
            #expect(spent.header("x-should-retry") == "false" && Int(spent.header("Retry-After") ?? "") ?? 0 > 0)
        }
    }

    @Test func serverSentEventsCarryTheEncodedAudioThenUsage() async throws {
        try await Self.withVoice { t in
            let r = try await t.speech(["model": "gpt-4o-mini-tts", "input": Self.text, "voice": "anna", "stream_format": "sse"],
                                       headers: [("Accept", "application/octet-stream")])
            #expect(r.status == 200 && r.header("Content-Type") == "text/event-stream")
            let events = String(decoding: r.body, as: UTF8.self).components(separatedBy: "\n\n").filter { !$0.isEmpty }
            #expect(events.allSatisfy { $0.hasPrefix("data: ") })
            let decoded = events.compactMap { try? JSONSerialization.jsonObject(with: Data($0.dropFirst(6).utf8)) as? [String: Any] }
            #expect(decoded.count == events.count && decoded.count >= 2)
            let deltas = decoded.dropLast()
            #expect(deltas.allSatisfy { $0["type"] as? String == "speech.audio.delta" })
            let audio = deltas.reduce(into: Data()) { $0 += Data(base64Encoded: $1["audio"] as? String ?? "") ?? Data() }
            #expect(abs(try Self.inspect(audio, ext: "mp3").duration - Self.seconds) < 0.1)
            let done = try #require(decoded.last)
            #expect(done["type"] as? String == "speech.audio.done")
            let usage = try #require(done["usage"] as? [String: Int])
            #expect(usage == ["input_tokens": Self.text.count, "output_tokens": 0, "total_tokens": Self.text.count])
        }
    }

    @Test func voiceAndModelListsAndTheHistory() async throws {
        try await Self.withVoice { t in
            let client = try await t.makeKey("app")
            try await t.makeVoice("private-one", key: client)
            let all = try await t.request(.GET, "/v1/audio/voices")
            #expect(all.json["voices"] as? [[String: String]] == [["id": "anna", "name": "anna"], ["id": "private-one", "name": "private-one"]])
            #expect(try await t.request(.GET, "/v1/audio/voices", key: nil).status == 401, "a key unless PUBLIC_VOICE_LIST")
            let models = try await t.request(.GET, "/v1/models")
            #expect(models.json["object"] as? String == "list")
            #expect((models.json["data"] as? [[String: Any]])?.first?["id"] as? String == "tts-1")
            #expect(((try await t.request(.GET, "/v1/audio/models").json["models"]) as? [[String: String]])?.contains(["id": "tts-1-hd"]) == true)

            #expect(try await t.speech(["model": "my-model", "input": "For the record.", "voice": "anna", "response_format": "flac"]).status == 200)
            let rows = try await t.request(.GET, "/api/v1/history?limit=1").json["items"] as? [[String: Any]]
            let row = try #require(rows?.first)
            #expect(row["model"] as? String == "my-model" && row["voice"] as? String == "anna" && row["response_format"] as? String == "flac")
            #expect(row["status"] as? Int == 200 && (row["audio_seconds"] as? Double ?? 0) > 0)
        }
        try await TestGateway.run(env: ["PUBLIC_VOICE_LIST": "true"]) { (t: TestGateway) async throws in
            try await t.makeVoice("open", extra: ["shared": "true"])
            try await t.makeVoice("closed")
            // Open WebUI lists without a key: shared voices only.
            let open = try await t.request(.GET, "/v1/audio/voices", key: nil)
            #expect(open.status == 200 && open.json["voices"] as? [[String: String]] == [["id": "open", "name": "open"]])
            #expect(try await t.request(.GET, "/v1/audio/models", key: nil).status == 200)
            #expect(try await t.request(.GET, "/v1/audio/voices", key: "wrong").status == 401)
            #expect(try await t.speech(["model": "tts-1", "input": "Hi.", "voice": "open"], bearer: nil).status == 401)
        }
    }
}
