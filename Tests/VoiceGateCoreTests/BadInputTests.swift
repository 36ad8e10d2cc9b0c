import Foundation
import NIOCore
import NIOHTTP1
import NIOPosix
import SovitsDouble
import Synchronization
import Testing
@testable import VoiceGateCore

@Suite("Bad input gets a clear error and leaves nothing behind")
struct BadInputTests {
    static func expectError(_ r: TestResponse, _ status: Int, _ code: String, sourceLocation: SourceLocation = #_sourceLocation) {
        #expect(r.status == status, "\(code): \(String(decoding: r.body.prefix(300), as: UTF8.self))", sourceLocation: sourceLocation)
        #expect(r.errorCode == code, sourceLocation: sourceLocation)
        #expect(r.json["success"] as? Bool == false, sourceLocation: sourceLocation)
        #expect(r.json["message"] is String, sourceLocation: sourceLocation)
        #expect(r.json.keys.contains("details"), sourceLocation: sourceLocation)
        #expect(r.header("X-Request-ID") != nil, sourceLocation: sourceLocation)
    }

    static func incomingFiles(_ t: TestGateway) -> [String] {
        (try? FileManager.default.contentsOfDirectory(atPath: t.gateway.config.absoluteRefDir + "/.incoming")) ?? []
    }

    @Test func invalidFieldsAre400WithSpecificCodes() async throws {
        try await TestGateway.run { t in
            let cases: [(Multipart, String)] = [
                (.synthesis(text: ""), "empty_text"),
                (.synthesis(text: "   \n\t "), "empty_text"),
                (.synthesis(text: String(repeating: "a", count: 5001)), "text_too_long"),
                (.synthesis(extra: ["language": "klingon"]), "unsupported_language"),
                (.synthesis(extra: ["speed": "3"]), "invalid_speed"),
                (.synthesis(extra: ["speed": "fast"]), "invalid_speed"),
                (.synthesis(extra: ["speed": "nan"]), "invalid_speed"),
                (.synthesis(extra: ["temperature": "0"]), "invalid_temperature"),
                (.synthesis(extra: ["temperature": "1.5"]), "invalid_temperature"),
                (.synthesis(extra: ["seed": "x"]), "invalid_seed"),
                (.synthesis(extra: ["stream": "maybe"]), "invalid_stream"),
                (.synthesis(reference: Data("this is not audio at all, just text".utf8)), "unsupported_audio_format"),
                (.synthesis(reference: TestAudio.wav(seconds: 2)), "reference_too_short"),
                (.synthesis(reference: TestAudio.wav(seconds: 11)), "reference_too_long"),
                (.synthesis(reference: Data()), "missing_reference_audio"),
            ]
            for (form, code) in cases {
                Self.expectError(try await t.synthesize(form), 400, code)
            }
            let empty = try await t.synthesize(.synthesis(reference: Data()))
            #expect(empty.json["message"] as? String == "reference_audio is empty (0 bytes)")
            var noFile = Multipart()
            noFile.field("text", "Hello")
            Self.expectError(try await t.synthesize(noFile), 400, "missing_reference_audio")
            #expect(t.double?.recorder.stats.ttsRequests == 0)
            #expect(Self.incomingFiles(t).filter { $0.hasSuffix(".part") }.isEmpty)
            // Each is recorded once its response has been sent, which can be just after the client has it.
            let expected = cases.count + 2
            #expect(await eventually { t.gateway.log.events().filter { $0.status == 400 }.count == expected })
        }
    }

    @Test func textMayBeExactly5000CharactersIncludingCJK() async throws {
        try await TestGateway.run { t in
            let r = try await t.synthesize(.synthesis(text: String(repeating: "语", count: 5000), extra: ["language": "zh"]))
            #expect(r.status == 200)
        }
    }

    @Test func anImpossibleWAVHeaderIs400UnsupportedAudioFormat() async throws {
        try await TestGateway.run { t in
            var wav = [UInt8](TestAudio.wav(seconds: 4))
            wav[34] = 12 // 12 bits per sample, with a byte rate for 16
            let r = try await t.synthesize(.synthesis(reference: Data(wav)))
            Self.expectError(r, 400, "unsupported_audio_format")
            #expect((r.json["message"] as? String)?.contains("12 bits per sample") == true)
            #expect(t.double?.recorder.stats.ttsRequests == 0)
        }
    }

    @Test func aDisallowedFormatIsRefusedWhateverItsName() async throws {
        try await TestGateway.run(env: ["ALLOWED_AUDIO_FORMATS": "wav"]) { t in
            var form = Multipart()
            form.field("text", "Hello")
            form.file("reference_audio", try TestAudio.fixture("tone.flac"), filename: "voice.wav")
            Self.expectError(try await t.synthesize(form), 400, "unsupported_audio_format")
        }
    }

    @Test func anOversizedUploadIsRefusedWhileItStreams() async throws {
        try await TestGateway.run(env: ["MAX_UPLOAD_SIZE": "100000"]) { t in
            // The declared length is within the allowance for form framing, so the up-front check lets it in:
            // the bytes counted as they arrive are what refuse it.
            let big = TestAudio.wav(seconds: 5, sampleRate: 16000) // 160 kB
            let r = try await t.synthesize(.synthesis(reference: big))
            Self.expectError(r, 400, "file_too_large")
            #expect(Self.incomingFiles(t).filter { $0.hasSuffix(".part") }.isEmpty)
        }
    }

    @Test func aDeclaredLengthOverTheLimitIsRefusedBeforeReading() async throws {
        try await TestGateway.run(env: ["MAX_UPLOAD_SIZE": "100000"]) { t in
            let form = Multipart.synthesis(reference: Data(count: 2_000_000))
            let r = try await t.request(.POST, "/api/v1/voice/synthesize",
                                        headers: [("Content-Type", form.contentType), ("Content-Length", String(form.body.count))], body: form.body)
            Self.expectError(r, 400, "file_too_large")
        }
    }

    @Test func malformedAndNonMultipartBodiesAre400() async throws {
        try await TestGateway.run { t in
            let json = try await t.request(.POST, "/api/v1/voice/synthesize", headers: [("Content-Type", "application/json")], body: Data("{}".utf8))
            Self.expectError(json, 400, "invalid_content_type")
            let noBoundary = try await t.request(.POST, "/api/v1/voice/synthesize", headers: [("Content-Type", "multipart/form-data")], body: Data("x".utf8))
            Self.expectError(noBoundary, 400, "malformed_multipart")
            let form = Multipart.synthesis()
            let cut = try await t.request(.POST, "/api/v1/voice/synthesize",
                                          headers: [("Content-Type", "multipart/form-data; boundary=not-the-one-used")], body: form.body)
            Self.expectError(cut, 400, "malformed_multipart")
            #expect(Self.incomingFiles(t).filter { $0.hasSuffix(".part") }.isEmpty)
        }
    }

    /// The crash found by mutation fuzzing: MultipartKit indexed a 128-entry table with a header name's bytes.
    @Test func aNonTokenByteInAPartHeaderNameIs400AndTheGatewayKeepsServing() async throws {
        try await TestGateway.run { t in
            func send(_ body: [UInt8], boundary: String = "B") async throws -> TestResponse {
                try await t.request(.POST, "/api/v1/voice/synthesize", headers: [("Content-Type", "multipart/form-data; boundary=\(boundary)")],
                                    body: Data(body))
            }
            let reproducer = Array("--B\r\nN".utf8) + [0xC3, 0xA4] + Array("me: x\r\n\r\nhi\r\n--B--\r\n".utf8)
            Self.expectError(try await send(reproducer), 400, "malformed_multipart")
            for byte in [0x80, 0xFF, 0x00, 0x7F, 0x28, 0x22, 0x20, 0x0A] as [UInt8] {
                let body = Array("--B\r\nContent-Disposition: form-data; name=\"text\"\r\nX".utf8) + [byte]
                    + Array("Y: 1\r\n\r\nhi\r\n--B--\r\n".utf8)
                Self.expectError(try await send(body), 400, "malformed_multipart")
            }
            // Header names and values have a bound: nothing is kept without one.
            let long = Array("--B\r\nX-Long: ".utf8) + [UInt8](repeating: 0x61, count: 100_000) + Array("\r\n\r\nhi\r\n--B--\r\n".utf8)
            let tooLong = try await send(long)
            Self.expectError(tooLong, 400, "malformed_multipart")
            #expect((tooLong.json["message"] as? String)?.contains("longer than") == true)
            #expect(try await t.synthesize(.synthesis()).status == 200)
            #expect(await eventually { Self.incomingFiles(t).filter { $0.hasSuffix(".part") }.isEmpty })
        }
    }

    @Test func aBoundaryOutsideRFC2046Is400() async throws {
        try await TestGateway.run { t in
            for boundary in ["", String(repeating: "b", count: 71), "caf\u{e9}", "a;b", "\"\"", "ends-in-space "] {
                let r = try await t.request(.POST, "/api/v1/voice/synthesize",
                                            headers: [("Content-Type", "multipart/form-data; boundary=\"\(boundary)\"")], body: Data("x".utf8))
                Self.expectError(r, 400, "malformed_multipart")
            }
            var form = Multipart.synthesis()
            form.boundary = String(repeating: "b", count: 60) + "'()+_,"
            #expect(try await t.synthesize(form).status == 200)
        }
    }

    @Test func aTruncatedUploadLeavesNoFile() async throws {
        try await TestGateway.run { t in
            let form = Multipart.synthesis()
            let r = try await t.request(.POST, "/api/v1/voice/synthesize", headers: [("Content-Type", form.contentType)],
                                        body: form.body.prefix(form.body.count - 100))
            Self.expectError(r, 400, "malformed_multipart")
            #expect(Self.incomingFiles(t).filter { $0.hasSuffix(".part") }.isEmpty)
        }
    }

    @Test func aBodyShorterThanItsContentLengthIs400AndLeavesNoFile() async throws {
        try await TestGateway.run { t in
            let form = Multipart.synthesis()
            let (channel, collector) = try await Self.connect(t)
            try await channel.writeAndFlush(Self.uploadHead(contentType: form.contentType, framing: "Content-Length: \(form.body.count + 1000)\r\n")).get()
            try await channel.writeAndFlush(ByteBuffer(bytes: form.body)).get()
            // The client says it is done sending, 1000 bytes short, and waits for the answer.
            try await channel.close(mode: .output).get()
            #expect(await eventually { collector.text.contains("\"bad_request\"") })
            #expect(collector.text.hasPrefix("HTTP/1.1 400 Bad Request"))
            #expect(collector.text.lowercased().contains("x-request-id"))
            #expect(await eventually { Self.incomingFiles(t).filter { $0.hasSuffix(".part") }.isEmpty })
        }
    }

    @Test func aClientDisconnectingMidUploadLeavesNoTempFile() async throws {
        try await TestGateway.run { t in
            let form = Multipart.synthesis(reference: TestAudio.wav(seconds: 8, sampleRate: 44100))
            let (channel, _) = try await Self.connect(t)
            try await channel.writeAndFlush(Self.uploadHead(contentType: form.contentType, framing: "Content-Length: \(form.body.count)\r\n")).get()
            try await channel.writeAndFlush(ByteBuffer(bytes: form.body.prefix(form.body.count / 2))).get()
            #expect(await eventually { Self.incomingFiles(t).contains { $0.hasSuffix(".part") } })
            try await channel.close().get()
            #expect(await eventually { Self.incomingFiles(t).filter { $0.hasSuffix(".part") }.isEmpty })
            #expect(t.double?.recorder.stats.ttsRequests == 0)
        }
    }

    @Test func aStalledUploadIsClosedAfterTheIdleTimeoutAndLeavesNoFile() async throws {
        try await TestGateway.run(env: ["CLIENT_IDLE_TIMEOUT": "1"]) { t in
            let form = Multipart.synthesis(reference: TestAudio.wav(seconds: 8, sampleRate: 44100))
            let (channel, _) = try await Self.connect(t)
            try await channel.writeAndFlush(Self.uploadHead(contentType: form.contentType, framing: "Content-Length: \(form.body.count)\r\n")).get()
            try await channel.writeAndFlush(ByteBuffer(bytes: form.body.prefix(form.body.count / 2))).get()
            #expect(await eventually { Self.incomingFiles(t).contains { $0.hasSuffix(".part") } })
            // Then nothing more: the gateway closes the connection and removes the partial file.
            #expect(await eventually(timeout: 5) { !channel.isActive })
            #expect(await eventually { Self.incomingFiles(t).filter { $0.hasSuffix(".part") }.isEmpty })
            #expect(t.double?.recorder.stats.ttsRequests == 0)
            // The client's timeout, in the log as such: not an internal error.
            #expect(await eventually { t.gateway.log.events().contains { $0.errorCode == "client_timeout" } })
            let event = try #require(t.gateway.log.events().first { $0.errorCode == "client_timeout" })
            #expect(event.status == 408)
            #expect(event.message?.contains("CLIENT_IDLE_TIMEOUT") == true)
            #expect(t.gateway.connections.snapshot.timedOut[.body] == 1)
        }
    }

    @Test func waitingForASlowUpstreamIsNotIdle() async throws {
        var options = SovitsDoubleOptions()
        options.inferenceDelay = .milliseconds(2500)
        try await TestGateway.run(upstream: .double(options), env: ["CLIENT_IDLE_TIMEOUT": "1"]) { t in
            let r = try await t.synthesize(Multipart.synthesis())
            #expect(r.status == 200)
            #expect(r.body.count > 44)
        }
    }

    @Test func anEndlessUploadIsCutOffSoonAfterItsAnswer() async throws {
        try await TestGateway.run { t in
            let (channel, collector) = try await Self.connect(t)
            let boundary = "endless"
            let start = "--\(boundary)\r\nContent-Disposition: form-data; name=\"text\"\r\n\r\nhi\r\n--\(boundary)\r\n"
                + "Content-Disposition: form-data; name=\"reference_audio\"; filename=\"a.wav\"\r\n\r\n"
            try await channel.writeAndFlush(Self.uploadHead(contentType: "multipart/form-data; boundary=\(boundary)",
                                                            framing: "Transfer-Encoding: chunked\r\n")).get()
            try await channel.writeAndFlush(ByteBuffer(string: String(start.utf8.count, radix: 16) + "\r\n" + start + "\r\n")).get()
            // Past MAX_UPLOAD_SIZE (10 MiB) the gateway answers; it then reads at most 16 MiB more and closes.
            var chunk = ByteBuffer(string: String(1 << 20, radix: 16) + "\r\n")
            chunk.writeRepeatingByte(0x55, count: 1 << 20)
            chunk.writeString("\r\n")
            var sentMiB = 0
            while channel.isActive, sentMiB < 200 {
                do { try await channel.writeAndFlush(chunk).get() } catch { break }
                sentMiB += 1
            }
            #expect(await eventually { !channel.isActive })
            #expect(sentMiB < 64, "the gateway read \(sentMiB) MiB")
            #expect(collector.text.hasPrefix("HTTP/1.1 400 Bad Request"))
            #expect(collector.text.lowercased().contains("connection: close"))
            #expect(collector.text.contains("\"file_too_large\""))
            #expect(await eventually { Self.incomingFiles(t).filter { $0.hasSuffix(".part") }.isEmpty })
        }
    }

    @Test func aClientThatSendsItsWholeOversizedBodyBeforeReadingGetsTheAnswer() async throws {
        try await TestGateway.run { t in
            let form = Multipart.synthesis(reference: Data(repeating: 0x55, count: 11 << 20))
            let (channel, collector) = try await Self.connect(t)
            try await channel.writeAndFlush(Self.uploadHead(contentType: form.contentType, framing: "Content-Length: \(form.body.count)\r\n")).get()
            try await channel.writeAndFlush(ByteBuffer(bytes: form.body)).get()
            #expect(await eventually { collector.text.contains("\"file_too_large\"") })
            #expect(collector.text.hasPrefix("HTTP/1.1 400 Bad Request"))
            // The whole body has arrived: the connection closes cleanly, as its answer said.
            #expect(await eventually { !channel.isActive })
        }
    }

    @Test func expectContinueIsAnsweredBeforeTheBodyIsSent() async throws {
        try await TestGateway.run { t in
            let form = Multipart.synthesis()
            let (channel, collector) = try await Self.connect(t)
            try await channel.writeAndFlush(Self.uploadHead(contentType: form.contentType,
                                                            framing: "Content-Length: \(form.body.count)\r\nExpect: 100-continue\r\n")).get()
            #expect(await eventually { collector.text.hasPrefix("HTTP/1.1 100 Continue\r\n") })
            try await channel.writeAndFlush(ByteBuffer(bytes: form.body)).get()
            #expect(await eventually { collector.text.contains("HTTP/1.1 200 OK") })
            try await channel.close().get()
        }
    }

    /// A raw connection to the gateway, for clients that misbehave in ways an HTTP client will not: it sends
    /// bytes as given, and its `Collector` keeps what comes back.
    static func connect(_ t: TestGateway) async throws -> (channel: any Channel, received: Collector) {
        let raw = try await RawConnection.open(port: t.port)
        return (raw.channel, raw.received)
    }

    /// The head of a keyed synthesis upload; `framing` is its Content-Length or Transfer-Encoding line(s).
    static func uploadHead(contentType: String, framing: String) -> ByteBuffer {
        ByteBuffer(string: "POST /api/v1/voice/synthesize HTTP/1.1\r\nHost: x\r\nX-API-Key: \(TestGateway.apiKey)\r\n"
                   + "Content-Type: \(contentType)\r\n\(framing)\r\n")
    }

    @Test func aWrongOrMissingKeyIs401AndTheKeyIsNeverLogged() async throws {
        try await TestGateway.run { t in
            Self.expectError(try await t.synthesize(.synthesis(), key: nil), 401, "unauthorized")
            Self.expectError(try await t.synthesize(.synthesis(), key: "wrong-key-wrong-key"), 401, "unauthorized")
            Self.expectError(try await t.request(.GET, "/api/v1/voice/health", key: nil), 401, "unauthorized")
            #expect(try await t.synthesize(.synthesis()).status == 200)
            #expect(!t.logs.entries.contains { "\($0.message) \($0.metadata)".contains(TestGateway.apiKey) })
        }
    }

    @Test func unknownPathsAreJSON404s() async throws {
        try await TestGateway.run { t in
            Self.expectError(try await t.request(.GET, "/nope"), 404, "not_found")
            Self.expectError(try await t.request(.GET, "/api/v1/voice/nope"), 404, "not_found")
        }
    }

    /// What NIO's parser refuses before any request exists still gets the ErrorResponse and a request id.
    @Test(arguments: ["BREW /health HTTP/1.1\r\nHost: x\r\n\r\n", "GET /health HTTP/9.9\r\n\r\n",
                      "GET /health HTTP/1.1\r\nX-Huge: " + String(repeating: "a", count: 100_000) + "\r\n\r\n",
                      "GET /health HTTP/1.1\r\nBad Header Name: x\r\n\r\n"])
    func anUnparsableRequestIsAJSON400WithARequestID(raw: String) async throws {
        try await TestGateway.run { t in
            let (channel, collector) = try await Self.connect(t)
            try await channel.writeAndFlush(ByteBuffer(string: raw)).get()
            #expect(await eventually { collector.text.contains("\"bad_request\"") })
            let head = collector.text.lowercased()
            #expect(head.hasPrefix("http/1.1 400 bad request"))
            #expect(head.contains("x-request-id: ") && head.contains("content-type: application/json"))
            #expect(await eventually { !channel.isActive })
            #expect(try await t.request(.GET, "/health", key: nil).status == 200)
        }
    }

    @Test func aKnownPathWithTheWrongMethodIs405WithAllow() async throws {
        try await TestGateway.run { t in
            for (method, path, allow) in [(HTTPMethod.GET, "/api/v1/voice/synthesize", "POST"), (.PUT, "/api/v1/voice/synthesize", "POST"),
                                          (.TRACE, "/api/v1/voice/synthesize", "POST"), (.RAW(value: "PROPFIND"), "/api/v1/voice/synthesize", "POST"),
                                          (.POST, "/api/v1/voice/health", "GET, HEAD"), (.DELETE, "/health", "GET, HEAD"),
                                          (.PATCH, "/health", "GET, HEAD"), (.TRACE, "/health", "GET, HEAD"),
                                          (.POST, "/openapi.json", "GET, HEAD"), (.POST, "/docs", "GET, HEAD")] {
                let r = try await t.request(method, path, key: nil)
                Self.expectError(r, 405, "method_not_allowed")
                #expect(r.header("Allow") == allow)
            }
            // HEAD follows GET, as uptime checkers expect.
            let head = try await t.request(.HEAD, "/health", key: nil)
            #expect(head.status == 200 && head.body.isEmpty)
        }
    }
}
