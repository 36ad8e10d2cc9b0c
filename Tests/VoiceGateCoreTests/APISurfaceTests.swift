import Foundation
import Testing
@testable import VoiceGateCore

@Suite("Health, documentation, CORS and the request log")
struct APISurfaceTests {
    @Test func healthAnswersFromTheMonitor() async throws {
        try await TestGateway.run { t in
            #expect(await eventually { t.gateway.monitor.snapshot.upstream.word == "up" })
            let r = try await t.request(.GET, "/health", key: nil)
            #expect(r.status == 200)
            #expect(r.json["status"] as? String == "healthy")
            #expect(r.json["version"] as? String == "1.0.0")
            #expect(r.json["sovits_available"] as? Bool == true)
            #expect((r.json["uptime_seconds"] as? Double ?? -1) >= 0)
            #expect(r.json["engine"] as? String == "gpt-sovits")
            let voice = try await t.request(.GET, "/api/v1/voice/health")
            #expect(voice.status == 200)
            #expect(voice.json["sovits_available"] as? Bool == true)
            #expect(voice.json["state"] as? String == "up")
            #expect(voice.json["api"] as? String == "v2")
            #expect((voice.json["summary"] as? String)?.hasPrefix("UP ") == true)
            #expect((voice.json["queue"] as? [String: Any])?["max_concurrency"] as? Int == 1)
            #expect(t.double!.recorder.stats.probes >= 1)
        }
    }

    @Test func healthIsUnhealthyWhenReferencesCannotBeStored() async throws {
        try await TestGateway.run { t in
            let dir = t.gateway.config.absoluteRefDir + "/.incoming"
            try FileManager.default.setAttributes([.posixPermissions: 0o500], ofItemAtPath: dir)
            defer { try? FileManager.default.setAttributes([.posixPermissions: 0o700], ofItemAtPath: dir) }
            guard getuid() != 0 else { return } // root writes anywhere; the check cannot fail for root
            #expect(await eventually { t.gateway.healthReport().status == .unhealthy })
            let r = try await t.request(.GET, "/health", key: nil)
            #expect(r.status == 503)
            #expect(r.json["status"] as? String == "unhealthy")
        }
    }

    @Test func healthReportStatesFollowTheUpstream() {
        var snapshot = HealthMonitor.Snapshot()
        snapshot.upstream = .busy
        #expect(HealthReport(snapshot: snapshot, embeddedEngine: false).status == .healthy)
        snapshot.upstream = .down(reason: "connection refused")
        #expect(HealthReport(snapshot: snapshot, embeddedEngine: false).status == .degraded)
        #expect(HealthReport(snapshot: snapshot, embeddedEngine: true).status == .unhealthy)
        snapshot.upstream = .up(latency: 0.018)
        snapshot.gatewayProblem = "SOVITS_REF_DIR /x is not writable"
        #expect(HealthReport(snapshot: snapshot, embeddedEngine: false).status == .unhealthy)
        #expect(HealthMonitor.UpstreamState.up(latency: 0.018).summary == "UP 18 ms")
    }

    @Test func servesTheOpenAPIDocumentFromAssetsAndTheDocsPage() async throws {
        try await TestGateway.run { t in
            let r = try await t.request(.GET, "/openapi.json", key: nil)
            #expect(r.status == 200)
            let assets = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
                .appendingPathComponent("assets/openapi.json")
            #expect(r.body == (try Data(contentsOf: assets)))
            let docs = try await t.request(.GET, "/docs", key: nil)
            #expect(docs.status == 200)
            #expect(docs.header("Content-Type")?.hasPrefix("text/html") == true)
            #expect(String(decoding: docs.body, as: UTF8.self).contains("/openapi.json"))
        }
    }

    @Test func corsAllowsOnlyTheConfiguredOrigins() async throws {
        try await TestGateway.run(env: ["CORS_ORIGINS": "http://app.example,http://localhost:3000"]) { t in
            let allowed = try await t.request(.GET, "/health", headers: [("Origin", "http://app.example")], key: nil)
            #expect(allowed.header("Access-Control-Allow-Origin") == "http://app.example")
            #expect(allowed.header("Access-Control-Expose-Headers")?.contains("X-Audio-Duration") == true)
            let denied = try await t.request(.GET, "/health", headers: [("Origin", "http://evil.example")], key: nil)
            #expect(denied.header("Access-Control-Allow-Origin") == nil)
            let preflight = try await t.request(.OPTIONS, "/api/v1/voice/synthesize",
                                                headers: [("Origin", "http://localhost:3000"), ("Access-Control-Request-Method", "POST")], key: nil)
            #expect(preflight.status == 204)
            #expect(preflight.header("Access-Control-Allow-Headers")?.contains("X-API-Key") == true)
            let unauthorized = try await t.request(.POST, "/api/v1/voice/synthesize", headers: [("Origin", "http://app.example")], key: nil)
            #expect(unauthorized.status == 401)
            #expect(unauthorized.header("Access-Control-Allow-Origin") == "http://app.example")
        }
    }

    @Test func everyRequestIsLoggedAndRecorded() async throws {
        try await TestGateway.run { t in
            let ok = try await t.synthesize(.synthesis())
            _ = try await t.request(.GET, "/health", key: nil)
            #expect(await eventually { t.gateway.log.events().count == 2 })
            let events = t.gateway.log.events()
            let synthesis = try #require(events.first { $0.path == "/api/v1/voice/synthesize" })
            #expect(synthesis.status == 200)
            #expect(synthesis.id == ok.header("X-Request-ID"))
            #expect(synthesis.client == "127.0.0.1")
            #expect(synthesis.bytes == ok.body.count)
            #expect(synthesis.latency > 0)
            let figures = t.gateway.log.figures()
            #expect(figures.requests == 2)
            #expect(figures.errors == 0)
            #expect(figures.inFlight == 0)
            #expect(figures.p50 != nil)
            #expect(t.logs.entries.contains { "\($0.message)".hasPrefix("POST /api/v1/voice/synthesize 200 ") })
        }
    }

    /// Every error code the sources can produce is documented in the OpenAPI document.
    @Test func everyErrorCodeIsDocumented() throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let doc = try String(contentsOf: root.appendingPathComponent("assets/openapi.json"), encoding: .utf8)
        let sources = root.appendingPathComponent("Sources/VoiceGateCore")
        let files = FileManager.default.enumerator(at: sources, includingPropertiesForKeys: nil)!.compactMap { $0 as? URL }
            .filter { $0.pathExtension == "swift" }
        let pattern = try Regex(#"(?:GatewayError\(\d+, |\.invalid\(|GatewayError\([a-zA-Z.]+, )"([a-z_]+)""#)
        var codes = Set<String>()
        for file in files {
            let text = try String(contentsOf: file, encoding: .utf8)
            for match in text.matches(of: pattern) { codes.insert(String(match.output[1].substring!)) }
        }
        #expect(codes.count > 20)
        for code in codes.sorted() {
            #expect(doc.contains("\"\(code)\""), "error code \(code) is not in assets/openapi.json")
        }
    }
}

@Suite("Decimal text in headers and log lines")
struct DecimalTextTests {
    @Test func matchesPrintfRounding() {
        #expect(DecimalText.format(3.57, places: 6, trimmingZeros: true) == "3.57")
        #expect(DecimalText.format(231.6, places: 0) == "232" && DecimalText.format(-0.4, places: 0) == "0")
        #expect(DecimalText.format(2, places: 6, trimmingZeros: true) == "2")
        #expect(DecimalText.format(0.000_001, places: 6, trimmingZeros: true) == "0.000001")
        #expect(DecimalText.format(12.34567, places: 1) == "12.3")
        #expect(DecimalText.format(0, places: 1) == "0.0")
        #expect(DecimalText.format(-1.25, places: 1) == "-1.3")
        // Audio durations are whole samples over a rate: within half a microsecond, no trailing zeros.
        for samples in [1, 999, 22_050, 78_750, 160_001, 441_000] {
            for rate in [16_000, 22_050, 32_000, 44_100, 48_000] {
                let seconds = Double(samples) / Double(rate)
                let text = DecimalText.format(seconds, places: 6, trimmingZeros: true)
                #expect(abs(Double(text)! - seconds) <= 0.000_000_5 + 1e-12, "\(samples)/\(rate): \(text)")
                #expect(!text.hasSuffix("0") || !text.contains("."), "\(text)")
            }
        }
    }
}
