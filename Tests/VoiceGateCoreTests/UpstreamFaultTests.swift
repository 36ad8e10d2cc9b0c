import Foundation
import Testing
@testable import VoiceGateCore

/// The upstream fault matrix below HTTP: each fault maps to its documented status (or, once audio has begun, to a
/// cut response and an `upstream_stream_cut` event), the upstream's place is given back, and the gateway goes on.
@Suite("Upstream faults below HTTP", .serialized)
struct UpstreamFaultTests {
    static func with(_ fault: FaultUpstream.Fault, env: [String: String] = [:], _ body: @Sendable (TestGateway) async throws -> Void) async throws {
        let upstream = FaultUpstream(fault)
        try await upstream.start()
        do {
            try await TestGateway.run(upstream: .url(upstream.url), env: env) { t in
                try await body(t)
                #expect(await eventually { t.gateway.service.queue.snapshot.running == 0 })
                #expect(try await t.request(.GET, "/health", key: nil).status == 200)
            }
        } catch {
            await upstream.stop()
            throw error
        }
        await upstream.stop()
    }

    static func expectError(_ r: TestResponse, _ status: Int, _ code: String, sourceLocation: SourceLocation = #_sourceLocation) {
        BadInputTests.expectError(r, status, code, sourceLocation: sourceLocation)
    }

    @Test func anUpstreamThatAcceptsAndStaysSilentIs504() async throws {
        try await Self.with(.silence, env: ["SOVITS_TIMEOUT": "0.5"]) { t in
            Self.expectError(try await t.synthesize(.synthesis()), 504, "upstream_timeout")
        }
    }

    @Test func garbageInsteadOfHTTPIs502BadResponse() async throws {
        try await Self.with(.garbage) { t in
            let r = try await t.synthesize(.synthesis())
            Self.expectError(r, 502, "upstream_bad_response")
        }
    }

    @Test(arguments: [false, true])
    func aWAVHeaderWithAnImpossibleFormatIs502(streaming: Bool) async throws {
        try await Self.with(.absurdFormat) { t in
            let r = try await t.synthesize(.synthesis(extra: ["stream": String(streaming)]))
            Self.expectError(r, 502, "upstream_bad_response")
            #expect((r.json["message"] as? String)?.contains("channels") == true)
        }
    }

    @Test func aWAVHeaderDeclaringMoreThanTheAnswerHoldsIs502() async throws {
        try await Self.with(.absurdSize) { t in
            let r = try await t.synthesize(.synthesis())
            Self.expectError(r, 502, "upstream_bad_response")
            #expect((r.json["details"] as? [String: Any])?["content_length"] as? Int == 1044)
        }
    }

    @Test func a422IsAnUpstreamError() async throws {
        try await Self.with(.unprocessable) { t in
            let r = try await t.synthesize(.synthesis())
            Self.expectError(r, 502, "upstream_error")
            #expect(((r.json["details"] as? [String: Any])?["upstream_detail"] as? String)?.contains("Field required") == true)
        }
    }

    @Test(arguments: [FaultUpstream.Fault.resetMidBody, .cutChunked])
    func audioCutOffAfterItBeganEndsTheResponseAbnormally(fault: FaultUpstream.Fault) async throws {
        try await Self.with(fault) { t in
            // The head was sent with the first audio: the client can only be told by a response that does not end well.
            await #expect(throws: (any Error).self) { _ = try await t.synthesize(.synthesis()) }
            #expect(await eventually { t.gateway.log.events().contains { $0.errorCode == "upstream_stream_cut" } })
        }
    }
}
