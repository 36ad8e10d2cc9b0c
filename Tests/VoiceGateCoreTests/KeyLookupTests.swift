import Foundation
import Testing
@testable import VoiceGateCore

/// A key made elsewhere (the CLI, another gateway) works at once; a flood of wrong keys reaches the store a bounded
/// number of times.
@Suite("Keys made elsewhere")
struct KeyLookupTests {
    @Test func aKeyAddedToTheStoreByAnotherProcessIsAcceptedAtOnce() async throws {
        try await TestGateway.run { t in
            // As `voicegate keys add` does it: straight into the store, the running gateway's ring untouched.
            let (_, secret) = try await KeyAdministration(store: t.gateway.database).add(name: "fresh", role: .client, limits: .none)
            #expect(t.gateway.keys.key(named: "fresh") == nil)
            let r = try await t.synthesize(.synthesis(), key: secret)
            #expect(r.status == 200)
            #expect(t.gateway.keyLookup.lookups == 1)
            // Known now: no second look-up.
            #expect(try await t.synthesize(.synthesis(), key: secret).status == 200)
            #expect(t.gateway.keyLookup.lookups == 1)
        }
    }

    @Test func aFloodOfWrongKeysIsRefusedWithoutHammeringTheStore() async throws {
        try await TestGateway.run { t in
            let started = Date()
            for i in 0..<300 {
                let r = try await t.request(.GET, "/api/v1/voice/health", key: "wrong-key-\(i)-0123456789abcdef")
                #expect(r.status == 401)
            }
            // The same wrong key again and again is remembered as wrong.
            for _ in 0..<50 { #expect(try await t.request(.GET, "/api/v1/voice/health", key: "always-the-same-wrong-key").status == 401) }
            let seconds = Date().timeIntervalSince(started)
            let bound = Int(20 + 20 * seconds.rounded(.up))
            #expect(t.gateway.keyLookup.lookups <= bound, "\(t.gateway.keyLookup.lookups) look-ups in \(seconds) s")
        }
    }
}
