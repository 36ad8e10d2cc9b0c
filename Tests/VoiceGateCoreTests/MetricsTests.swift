import Foundation
import Testing
@testable import VoiceGateCore

@Suite("Prometheus metrics")
struct MetricsTests {
    @Test func metricsCountRequestsByRouteStatusAndKeyAndTimeSyntheses() async throws {
        try await TestGateway.run { (t: TestGateway) async throws in
            let client = try await t.makeKey("app")
            #expect(try await t.synthesize(.synthesis(text: "Measure me."), key: client).status == 200)
            #expect(try await t.request(.GET, "/nowhere/\(UUID())").status == 404)
            let r = try await t.request(.GET, "/metrics")
            #expect(r.status == 200)
            #expect(r.header("Content-Type")?.hasPrefix("text/plain; version=0.0.4") == true)
            let text = String(decoding: r.body, as: UTF8.self)
            let lines = text.split(separator: "\n").map(String.init)
            func value(_ prefix: String) -> Double? {
                lines.first { $0.hasPrefix(prefix) }.flatMap { Double($0.split(separator: " ").last!) }
            }
            #expect(value(#"voicegate_http_requests_total{route="/api/v1/voice/synthesize",method="POST",status="200",key="app"}"#) == 1)
            // Unknown paths share Hummingbird's one label, so a scanner cannot blow up the series count.
            #expect(value(#"voicegate_http_requests_total{route="NotFound",method="GET",status="404",key="-"}"#) == 1)
            #expect(value(#"voicegate_characters_total{key="app"}"#) == 11)
            #expect((value(#"voicegate_audio_seconds_total{key="app"}"#) ?? 0) > 0.5)
            for histogram in ["voicegate_queue_wait_seconds", "voicegate_time_to_first_byte_seconds", "voicegate_upstream_seconds",
                              "voicegate_real_time_factor"] {
                #expect(lines.contains { $0.hasPrefix("# TYPE \(histogram) histogram") }, "\(histogram)")
                #expect(value("\(histogram)_count") == 1, "\(histogram)")
            }
            #expect(value("voicegate_queue_waiting") == 0 && value("voicegate_upstream_up") == 1)
            #expect(value(#"voicegate_keys{role="client"}"#) == 1 && value(#"voicegate_keys{role="admin"}"#) == 1)
            #expect(!text.contains(client))
            #expect(try await t.request(.GET, "/metrics", key: nil).status == 401)
        }
    }

    @Test func metricsPublicNeedsNoKey() async throws {
        try await TestGateway.run(env: ["METRICS_PUBLIC": "true"]) { (t: TestGateway) async throws in
            #expect(try await t.request(.GET, "/metrics", key: nil).status == 200)
        }
    }
}
