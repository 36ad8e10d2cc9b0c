import Foundation
import SovitsDouble
import Testing
@testable import VoiceGateCore

@Suite("Upstream failures are mapped honestly")
struct UpstreamErrorMappingTests {
    @Test func silenceAt16kHzIsAFailedSynthesis() async throws {
        try await TestGateway.run { t in
            let r = try await t.synthesize(.synthesis(text: "Out of memory please [oom]"))
            #expect(r.status == 502)
            #expect(r.errorCode == "upstream_inference_failed")
        }
    }

    @Test func ttsFailedCausedByTheServerIs502WithDetails() async throws {
        try await TestGateway.run { t in
            let r = try await t.synthesize(.synthesis(text: "Break it [crash]"))
            #expect(r.status == 502)
            #expect(r.errorCode == "upstream_tts_failed")
            let details = try #require(r.json["details"] as? [String: Any])
            #expect((details["upstream_exception"] as? String)?.contains("RuntimeError") == true)
            #expect(details["upstream_status"] as? Int == 400)
        }
    }

    @Test func ttsFailedCausedByTheReferenceIs400WithUpstreamsReason() async throws {
        // The gateway allows 2 s here; the upstream's own 3-10 s rule rejects it.
        try await TestGateway.run(env: ["REF_MIN_SECONDS": "1"]) { t in
            let r = try await t.synthesize(.synthesis(reference: TestAudio.wav(seconds: 2)))
            #expect(r.status == 400)
            #expect(r.errorCode == "reference_rejected")
            #expect((r.json["message"] as? String)?.contains("3-10 second") == true)
        }
    }

    @Test func languageTheModelLacksIs400() async throws {
        var options = SovitsDoubleOptions()
        options.languages = ["auto", "en", "zh", "ja", "all_zh", "all_ja"]
        options.version = "v1"
        try await TestGateway.run(upstream: .double(options)) { t in
            let r = try await t.synthesize(.synthesis(extra: ["language": "ko"]))
            #expect(r.status == 400)
            #expect(r.errorCode == "unsupported_language")
            #expect((r.json["message"] as? String)?.contains("not supported in version v1") == true)
        }
    }

    @Test func connectionRefusedIs502AndHealthIsDegraded() async throws {
        try await TestGateway.run(upstream: .refused) { t in
            let r = try await t.synthesize(.synthesis())
            #expect(r.status == 502)
            #expect(r.errorCode == "upstream_unavailable")
            #expect((r.json["message"] as? String)?.contains("connection refused") == true)
            #expect(await eventually { t.gateway.monitor.snapshot.upstream.word == "down" })
            let health = try await t.request(.GET, "/health", key: nil)
            #expect(health.status == 200)
            #expect(health.json["status"] as? String == "degraded")
            #expect(health.json["sovits_available"] as? Bool == false)
            let voice = try await t.request(.GET, "/api/v1/voice/health")
            #expect(voice.json["sovits_available"] as? Bool == false)
            #expect(voice.json["summary"] as? String == "DOWN (connection refused)")
        }
    }

    @Test func noAnswerWithinTheTimeoutIs504() async throws {
        try await TestGateway.run(env: ["SOVITS_TIMEOUT": "0.5"]) { t in
            // The double does not answer for 2 s; a 504 (not a 200) shows the gateway's 0.5 s timeout fired first.
            let r = try await t.synthesize(.synthesis(text: "Never ends [hang]"))
            #expect(r.status == 504)
            #expect(r.errorCode == "upstream_timeout")
        }
    }

    @Test func aCutStreamEndsTheResponseAbnormallyAndIsLogged() async throws {
        try await TestGateway.run { t in
            await #expect(throws: (any Error).self) {
                _ = try await t.synthesize(.synthesis(text: "One part. Another part [cut]. Third part.", extra: ["stream": "true"]))
            }
            #expect(await eventually { t.gateway.log.events().contains { $0.errorCode == "upstream_stream_cut" } })
            #expect(t.logs.entries.contains { $0.level == .error && "\($0.message)".contains("failed after headers") })
            // The place at the upstream was given back.
            #expect(await eventually { t.gateway.service.queue.snapshot.running == 0 })
        }
    }

    @Test func aReferenceTheUpstreamCannotFindIs400() async throws {
        // Upstream and gateway disagree about the shared folder: the upstream says "<path> not exists".
        try await TestGateway.run(env: ["SOVITS_REF_PATH": "/nonexistent/refs"]) { t in
            let r = try await t.synthesize(.synthesis())
            #expect(r.status == 400)
            #expect(r.errorCode == "reference_rejected")
            #expect((r.json["message"] as? String)?.contains("not exists") == true)
        }
    }
}
