import Foundation
import SovitsDouble
import Synchronization
import Testing
@testable import VoiceGateCore

@Suite("Per-key limits and quotas")
struct LimitsTests {
    @Test func overTheRequestsPerMinuteIs429WithRetryAfter() async throws {
        try await TestGateway.run { (t: TestGateway) async throws in
            let key = try await t.makeKey("rpm2", limits: ["requests_per_minute": 2])
            #expect(try await t.synthesize(.synthesis(text: "One."), key: key).status == 200)
            #expect(try await t.synthesize(.synthesis(text: "Two."), key: key).status == 200)
            let third = try await t.synthesize(.synthesis(text: "Three."), key: key)
            #expect(third.status == 429)
            #expect(third.errorCode == "rate_limited")
            let retry = Int(third.header("Retry-After") ?? "") ?? 0
            #expect((1...60).contains(retry))
            #expect((third.json["details"] as? [String: Any])?["limit"] as? String == "requests_per_minute")
            // Other keys are not affected.
            #expect(try await t.synthesize(.synthesis(text: "Admin.")).status == 200)
        }
    }

    @Test func aSpentDailyQuotaIs429UntilMidnightAndSurvivesARestart() async throws {
        let dataDir = TestGateway.makeDataDir()
        defer { try? FileManager.default.removeItem(atPath: dataDir) }
        let text = "Exactly twenty chars" // 20 characters
        let secret = SharedValue<String>("")
        try await TestGateway.run(dataDir: dataDir) { (t: TestGateway) async throws in
            let key = try await t.makeKey("quota", limits: ["characters_per_day": 50])
            secret.set(key)
            #expect(try await t.synthesize(.synthesis(text: text), key: key).status == 200)
            #expect(try await t.synthesize(.synthesis(text: text), key: key).status == 200)
            let over = try await t.synthesize(.synthesis(text: text), key: key)
            #expect(over.status == 429)
            #expect(over.errorCode == "quota_exceeded")
            let details = over.json["details"] as? [String: Any] ?? [:]
            #expect(details["limit"] as? String == "characters_per_day" && details["used"] as? Int == 40)
            let reset = ISO8601DateFormatter().date(from: details["resets_at"] as? String ?? "")
            #expect(reset == UsageDay.nextReset(after: Date()))
            let retry = Double(over.header("Retry-After") ?? "") ?? 0
            #expect(abs(retry - UsageDay.nextReset(after: Date()).timeIntervalSinceNow) < 5)
            // A text that still fits is served: 10 characters of the 10 left.
            #expect(try await t.synthesize(.synthesis(text: "Ten chars!"), key: key).status == 200)
        }
        try await TestGateway.run(dataDir: dataDir) { (t: TestGateway) async throws in
            let over = try await t.synthesize(.synthesis(text: "Hi."), key: secret.value)
            #expect(over.errorCode == "quota_exceeded")
            let keys = try await t.request(.GET, "/api/v1/keys").json["keys"] as? [[String: Any]] ?? []
            let usage = keys.first { $0["name"] as? String == "quota" }?["usage_today"] as? [String: Any]
            #expect(usage?["characters"] as? Int == 50)
        }
    }

    @Test func concurrentLimitRefusesTheSecondInFlight() async throws {
        try await TestGateway.run { (t: TestGateway) async throws in
            let key = try await t.makeKey("one-at-a-time", limits: ["concurrent": 1])
            async let first = t.synthesize(.synthesis(text: "Takes a while. [hold]"), key: key)
            #expect(await eventually { t.gateway.meter.views(for: t.gateway.keys.all).contains { $0.name == "one-at-a-time" && $0.inFlight == 1 } })
            let second = try await t.synthesize(.synthesis(text: "Too many."), key: key)
            #expect(second.status == 429 && second.errorCode == "rate_limited")
            #expect(second.header("Retry-After") == "1")
            t.double!.hold.release()
            #expect(try await first.status == 200)
            #expect(await eventually { t.gateway.meter.views(for: t.gateway.keys.all).contains { $0.name == "one-at-a-time" && $0.inFlight == 0 } })
            #expect(try await t.synthesize(.synthesis(text: "Now again."), key: key).status == 200)
        }
    }
}

/// A value a test sets in one gateway's run and reads in the next.
final class SharedValue<T: Sendable>: Sendable {
    private let stored: Mutex<T>
    init(_ value: T) { stored = Mutex(value) }
    func set(_ value: T) { stored.withLock { $0 = value } }
    var value: T { stored.withLock { $0 } }
}
