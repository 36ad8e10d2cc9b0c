import Foundation
import Testing
@testable import VoiceGateCore

@Suite("Named keys: the admin API, roles and revocation")
struct KeysAPITests {
    @Test func anAdminMakesAKeyThatIsShownOnceAndStoredOnlyAsAHash() async throws {
        try await TestGateway.run { (t: TestGateway) async throws in
            let secret = try await t.makeKey("app1", limits: ["requests_per_minute": 30, "characters_per_day": 5000])
            #expect(secret.count >= 40)
            #expect(try await t.request(.GET, "/api/v1/voice/health", key: secret).status == 200)
            let list = try await t.request(.GET, "/api/v1/keys")
            #expect(list.status == 200)
            #expect(!String(decoding: list.body, as: UTF8.self).contains(secret))
            let keys = list.json["keys"] as? [[String: Any]] ?? []
            #expect(Set(keys.compactMap { $0["name"] as? String }) == ["app1", "default"])
            let app1 = keys.first { $0["name"] as? String == "app1" }!
            #expect(app1["role"] as? String == "client")
            let limits = app1["limits"] as? [String: Any]
            #expect(limits?["requests_per_minute"] as? Int == 30 && limits?["characters_per_day"] as? Int == 5000)
            #expect(limits?["concurrent"] is NSNull)
            #expect(app1["key"] == nil)
            // The database holds the hash, never the key.
            let stored = try await t.gateway.database.key(named: "app1")
            #expect(stored?.keyHash == KeyRecord.hash(secret))
            let file = try Data(contentsOf: URL(fileURLWithPath: t.dataDir + "/voicegate.db"))
            #expect(file.range(of: Data(secret.utf8)) == nil)
            // Never logged either.
            #expect(!t.logs.entries.contains { "\($0.message) \($0.metadata)".contains(secret) })
        }
    }

    @Test func aClientKeyIsForbiddenOnAdminRoutes() async throws {
        try await TestGateway.run { (t: TestGateway) async throws in
            let client = try await t.makeKey("reader")
            for (method, path) in [("GET", "/api/v1/keys"), ("POST", "/api/v1/keys"), ("PATCH", "/api/v1/keys/default"),
                                   ("DELETE", "/api/v1/keys/default"), ("GET", "/metrics")] {
                let r = try await t.request(.init(rawValue: method), path, headers: [("Content-Type", "application/json")],
                                            body: method == "GET" || method == "DELETE" ? nil : Data(#"{"name":"x"}"#.utf8), key: client)
                #expect(r.status == 403, "\(method) \(path)")
                #expect(r.errorCode == "forbidden")
                #expect(r.header("X-Request-ID") != nil)
            }
            #expect(try await t.request(.GET, "/api/v1/keys", key: "wrong-key-0123456789").status == 401)
            #expect(try await t.request(.GET, "/api/v1/keys").status == 200)
        }
    }

    @Test func patchChangesLimitsAndStateAndNullRemovesALimit() async throws {
        try await TestGateway.run { (t: TestGateway) async throws in
            let secret = try await t.makeKey("app", limits: ["requests_per_minute": 5])
            func patch(_ json: String, _ name: String = "app") async throws -> TestResponse {
                try await t.request(.PATCH, "/api/v1/keys/\(name)", headers: [("Content-Type", "application/json")], body: Data(json.utf8))
            }
            var r = try await patch(#"{"requests_per_minute": null, "concurrent": 2, "enabled": false}"#)
            #expect(r.status == 200)
            #expect((r.json["limits"] as? [String: Any])?["requests_per_minute"] is NSNull)
            #expect((r.json["limits"] as? [String: Any])?["concurrent"] as? Int == 2)
            #expect(try await t.request(.GET, "/api/v1/voice/health", key: secret).status == 401)
            r = try await patch(#"{"enabled": true, "role": "admin"}"#)
            #expect(r.status == 200 && r.json["role"] as? String == "admin")
            #expect(try await t.request(.GET, "/api/v1/keys", key: secret).status == 200)
            // Bad input: clear errors, nothing changed.
            #expect(try await patch(#"{"concurrent": 0}"#).errorCode == "invalid_limit")
            #expect(try await patch(#"{"concurrent": "2"}"#).errorCode == "invalid_field")
            #expect(try await patch(#"{"enabled": 1}"#).errorCode == "invalid_field")
            #expect(try await patch(#"{"colour": "red"}"#).errorCode == "unknown_field")
            #expect(try await patch(#"not json"#).errorCode == "invalid_json")
            #expect(try await patch(#"{"enabled": false}"#, "nobody").status == 404)
            // The caller cannot lock itself out.
            #expect(try await patch(#"{"enabled": false}"#, "default").errorCode == "key_in_use")
            #expect(try await t.gateway.database.key(named: "app")?.limits.concurrent == 2)
        }
    }

    @Test func creatingChecksNamesAndDuplicates() async throws {
        try await TestGateway.run { (t: TestGateway) async throws in
            func post(_ json: String) async throws -> TestResponse {
                try await t.request(.POST, "/api/v1/keys", headers: [("Content-Type", "application/json")], body: Data(json.utf8))
            }
            #expect(try await post(#"{"name": "ok-name_1.2"}"#).status == 201)
            #expect(try await post(#"{"name": "ok-name_1.2"}"#).errorCode == "key_exists")
            #expect(try await post(#"{"name": "../etc/passwd"}"#).errorCode == "invalid_key_name")
            #expect(try await post(#"{"name": ""}"#).errorCode == "invalid_key_name")
            #expect(try await post(#"{}"#).errorCode == "missing_name")
            #expect(try await post(#"{"name": "x", "role": "root"}"#).errorCode == "invalid_field")
            #expect(try await post(#"{"name": "y", "requests_per_minute": -1}"#).errorCode == "invalid_limit")
            #expect(try await post(#"[1, 2]"#).errorCode == "invalid_json")
        }
    }

    @Test func aRevokedKeyIsRefusedAtOnceHereAndAfterAFewRefreshesThroughTheStore() async throws {
        try await TestGateway.run { (t: TestGateway) async throws in
            let viaAPI = try await t.makeKey("via-api")
            #expect(try await t.request(.DELETE, "/api/v1/keys/via-api").status == 204)
            #expect(try await t.request(.GET, "/api/v1/voice/health", key: viaAPI).status == 401)
            #expect(try await t.request(.DELETE, "/api/v1/keys/via-api").status == 404)
            #expect(try await t.request(.DELETE, "/api/v1/keys/default").errorCode == "key_in_use")

            // Another process (the CLI, another gateway) revokes through its own connection to the same database.
            let secret = try await t.makeKey("elsewhere")
            #expect(try await t.request(.GET, "/api/v1/voice/health", key: secret).status == 200)
            let other = try await StoreLocation.sqlite(path: t.dataDir + "/voicegate.db").open(logger: .init(label: "other"))
            try await KeyAdministration(store: other).revoke(name: "elsewhere")
            try await other.close()
            let revoked = ContinuousClock.now
            var status = 200
            while status == 200, ContinuousClock.now - revoked < .seconds(3) {
                status = try await t.request(.GET, "/api/v1/voice/health", key: secret).status
                try await Task.sleep(for: .milliseconds(20))
            }
            #expect(status == 401)
            // StoreSync reads the keys every 200 ms: within a second on a quiet machine; twice that leaves room for a
            // loaded 2-core one running the whole suite at once.
            #expect(ContinuousClock.now - revoked < .seconds(2))
        }
    }

    @Test func theSeedsAPIKeyIsTheAdminKeyNamedDefault() async throws {
        let dataDir = TestGateway.makeDataDir()
        defer { try? FileManager.default.removeItem(atPath: dataDir) }
        try await TestGateway.run(dataDir: dataDir) { (t: TestGateway) async throws in
            let key = try await t.gateway.database.key(named: "default")
            #expect(key?.role == .admin && key?.keyHash == KeyRecord.hash(TestGateway.apiKey))
        }
        // A changed API_KEY replaces the old secret of `default`.
        try await TestGateway.run(env: ["API_KEY": "another-admin-key-0123456789"], dataDir: dataDir) { (t: TestGateway) async throws in
            #expect(try await t.request(.GET, "/api/v1/keys").status == 401)
            #expect(try await t.request(.GET, "/api/v1/keys", key: "another-admin-key-0123456789").status == 200)
        }
    }
}
