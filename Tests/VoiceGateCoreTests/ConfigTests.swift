import Foundation
import Testing
@testable import VoiceGateCore

@Suite("Configuration and keys")
struct ConfigTests {
    @Test func defaultsFollowTheSeed() throws {
        let c = try GatewayConfig.from([:])
        #expect(c.appName == "Voice Cloning API" && c.apiPrefix == "/api/v1" && c.maxUploadSize == 10_485_760)
        #expect(c.corsOrigins == ["http://localhost:3000", "http://localhost:5173"])
        #expect(c.host == "127.0.0.1" && c.port == 8000 && c.sovitsTimeout == 300)
        #expect(c.sovitsBaseURL == nil && c.storeURL == nil)
        #expect(c.maxConcurrency == 1 && c.refMinSeconds == 3 && c.refMaxSeconds == 10)
    }

    @Test func dotEnvParsing() {
        let vars = DotEnv.parse("""
        # comment
        export PORT=9000
        APP_NAME="My Gateway"
        CORS_ORIGINS='http://a,http://b'
        SOVITS_TIMEOUT=12 # trailing comment
        BROKEN LINE
        """)
        #expect(vars == ["PORT": "9000", "APP_NAME": "My Gateway", "CORS_ORIGINS": "http://a,http://b", "SOVITS_TIMEOUT": "12"])
    }

    @Test func flagsOverrideEnvironmentWhichOverridesDotEnv() throws {
        let dir = NSTemporaryDirectory() + UUID().uuidString
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        let file = dir + "/test.env"
        try "PORT=7000\nHOST=0.0.0.0\nQUEUE_MAX=3\n".write(toFile: file, atomically: true, encoding: .utf8)
        let c = try ConfigLoader.load(envFile: file, environment: ["PORT": "7100", "QUEUE_MAX": "4"], overrides: ["QUEUE_MAX": "5"])
        #expect(c.port == 7100 && c.host == "0.0.0.0" && c.queueMax == 5)
        #expect(throws: ConfigError.self) { try ConfigLoader.load(envFile: dir + "/missing.env", environment: [:], overrides: [:]) }
    }

    @Test(arguments: [["PORT": "eighty"], ["PORT": "70000"], ["SOVITS_TIMEOUT": "-1"], ["SOVITS_API": "v3"],
                      ["SOVITS_BASE_URL": "localhost:9880"], ["ALLOWED_AUDIO_FORMATS": "wav,aiff"], ["API_KEY": "short"],
                      ["REF_MIN_SECONDS": "10", "REF_MAX_SECONDS": "3"], ["SOVITS_MAX_CONCURRENCY": "0"], ["DEBUG": "perhaps"],
                      ["CLIENT_IDLE_TIMEOUT": "0"]])
    func badValuesStopWithOneClearLine(vars: [String: String]) {
        #expect(throws: ConfigError.self) { try GatewayConfig.from(vars) }
    }

    @Test func dotEnvExampleListsEveryVariable() throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let example = DotEnv.parse(try String(contentsOf: root.appendingPathComponent(".env.example"), encoding: .utf8))
        let commented = try String(contentsOf: root.appendingPathComponent(".env.example"), encoding: .utf8)
        for name in GatewayConfig.variableNames {
            #expect(example[name] != nil || commented.contains("# \(name)="), "\(name) missing from .env.example")
        }
    }

    @Test func generatesAnOwnerOnlyKeyOnceAndKeepsIt() throws {
        var c = GatewayConfig()
        c.dataDir = NSTemporaryDirectory() + "vg-key-" + UUID().uuidString
        let (key, source) = try APIKeyStore.resolve(config: c)
        #expect(key.count == 43)
        guard case .generated(let path) = source else { Issue.record("not generated"); return }
        let mode = try FileManager.default.attributesOfItem(atPath: path)[.posixPermissions] as? Int
        #expect(mode == 0o600)
        let (again, second) = try APIKeyStore.resolve(config: c)
        #expect(again == key && second == .loaded(path: path))
    }

    @Test func keyRingAcceptsOnlyEnabledKeys() {
        let ring = KeyRing([KeyRecord(name: "a", role: .admin, keyHash: KeyRecord.hash("correct-horse-battery-staple")),
                            KeyRecord(name: "b", role: .client, keyHash: KeyRecord.hash("off-key-0123456789"), enabled: false)])
        #expect(ring.authenticate("correct-horse-battery-staple")?.name == "a")
        #expect(ring.authenticate("correct-horse-battery-stapl") == nil)
        #expect(ring.authenticate("off-key-0123456789") == nil)
        #expect(ring.authenticate("") == nil)
        #expect(ring.authenticate(nil) == nil)
        #expect(KeyRecord.hash("abc") == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
    }

    @Test func storeURLSchemes() throws {
        #expect(try StoreLocation.parse(nil, dataDir: "/srv/vg") == .sqlite(path: "/srv/vg/voicegate.db"))
        #expect(try StoreLocation.parse("sqlite:///tmp/x.db", dataDir: "/srv/vg") == .sqlite(path: "/tmp/x.db"))
        let url = "postgres://vg:s3cret@db.internal:5433/voicegate?sslmode=disable"
        #expect(try StoreLocation.parse(url, dataDir: "/srv/vg") == .postgres(url: url))
        #expect(StoreLocation.postgres(url: url).description == "postgres://vg:***@db.internal:5433/voicegate?sslmode=disable")
        #expect(try PostgresURL(url).connection.port == 5433)
        // No user, a scheme nobody knows, an sslmode PostgresKit does not: one line each, before anything starts.
        for bad in ["postgres://db/voicegate", "mysql://u:p@db/vg", "postgres://u:p@db/vg?sslmode=sometimes"] {
            #expect(throws: ConfigError.self) { try GatewayConfig.from(["STORE_URL": bad]) }
        }
        do {
            _ = try GatewayConfig.from(["STORE_URL": "mysql://u:p@db/vg"])
        } catch {
            #expect("\(error)".hasPrefix("STORE_URL scheme mysql is not supported"))
        }
    }
}
