import Foundation
import SQLKit
import Testing
@testable import VoiceGateCore

/// The store on a real PostgreSQL server (`PostgresServer`): the same queries as SQLite, migrations that several
/// gateways run at once, limits exact across stores, and a start that stops with one line.
@Suite("The PostgreSQL store", .enabled(if: PostgresServer.available, "PostgreSQL is not installed (apt-get install postgresql)"),
       .timeLimit(.minutes(2)))
struct PostgresStoreTests {
    static func open(_ url: String) async throws -> any GatewayStore {
        try await StoreLocation.postgres(url: url).open(logger: .init(label: "test"))
    }

    @Test func threeGatewaysMigrateOneDatabaseAtOnce() async throws {
        let url = try await PostgresServer.shared().makeDatabase()
        let stores = try await withThrowingTaskGroup(of: (any GatewayStore).self) { group in
            for _ in 0..<3 { group.addTask { try await Self.open(url) } }
            return try await group.reduce(into: []) { $0.append($1) }
        }
        let db = (stores[0] as! SQLGatewayStore).db
        let versions = try await db.select().column("version").from("schema_migrations").orderBy("version").all()
            .map { try $0.decode(column: "version", as: Int.self) }
        #expect(versions == StoreMigrations.all.map(\.version))
        #expect(stores.allSatisfy { $0.limitLedger != nil })
        for store in stores { try await store.close() }
    }

    @Test func keysUsageHistoryAndVoicesRoundTrip() async throws {
        let (a, b) = (try await Self.open(try await PostgresServer.shared().makeDatabase()), ())
        _ = b
        let key = KeyRecord(name: "team", role: .client, keyHash: KeyRecord.hash("team-secret-0123456789"),
                            limits: .init(requestsPerMinute: 5, charactersPerDay: 100, concurrent: 2),
                            createdAt: Date(timeIntervalSince1970: 1_800_000_000.5))
        try await a.insertKey(key)
        await #expect(throws: StoreError.exists("a key named team (or with the same secret)")) { try await a.insertKey(key) }
        #expect(try await a.key(named: "team") == key)
        #expect(try await a.key(hash: key.keyHash)?.name == "team")
        var changed = key
        changed.enabled = false
        #expect(try await a.updateKey(changed))
        #expect(try await a.key(named: "team")?.enabled == false)

        let now = Date(timeIntervalSince1970: 1_800_000_000.123)
        var record = HistoryRecord(time: now, requestID: "r1", keyName: "team", client: "127.0.0.1", engine: "gpt-sovits-v2", language: "en",
                                   textLength: 12, textHash: nil, text: nil, referenceHash: "abc", status: 200, errorCode: nil,
                                   queueWait: 0.01, timeToFirstByte: 0.2, upstreamTime: 0.3, audioSeconds: 1.5, bytesSent: 4096)
        record.gateway = "gw-a"
        record.worker = "gpu1"
        try await a.write(StoreBatch(history: [record], usage: ["2026-12-06": ["team": KeyUsage(requests: 1, characters: 12)]],
                                     lastUsed: ["team": now]))
        let rows = try await a.history(HistoryQuery(key: "team"))
        #expect(rows.count == 1)
        #expect(rows.first?.gateway == "gw-a" && rows.first?.worker == "gpu1" && rows.first?.time == now)
        var byGateway = HistoryQuery()
        byGateway.gateway = "gw-b"
        #expect(try await a.history(byGateway).isEmpty)
        #expect(try await a.usage(day: "2026-12-06") == ["team": KeyUsage(requests: 1, characters: 12)])
        #expect(try await a.key(named: "team")?.lastUsedAt == now)
        #expect(try await a.pruneHistory(before: now.addingTimeInterval(1), keepingAtMost: 1000) == 1)

        let voice = VoiceRecord(name: "narrator", owner: "team", shared: false, fileName: "abc.wav",
                                info: AudioInfo(format: .wav, duration: 4, sampleRate: 32000, channels: 1), promptText: "Hello.",
                                promptLanguage: "en", description: "", createdAt: now, weights: nil)
        try await a.insertVoice(voice)
        #expect(try await a.voice(named: "narrator")?.fileName == "abc.wav")
        #expect(try await a.voiceCount(usingFile: "abc.wav") == 1)
        #expect(try await a.setVoiceShared("narrator", shared: true))
        #expect(try await a.deleteVoice(named: "narrator")?.shared == true)
        #expect(try await a.deleteKey(named: "team"))
        try await a.close()
    }

    /// Three stores (three gateways) spend one key's quota and rate at once: exactly the limit between them.
    @Test func limitsHoldExactlyAcrossStores() async throws {
        let url = try await PostgresServer.shared().makeDatabase()
        var stores: [any GatewayStore] = []
        for _ in 0..<3 { stores.append(try await Self.open(url)) }
        try await stores[0].insertKey(KeyRecord(name: "k", role: .client, keyHash: "h"))
        let ledgers = stores.map { $0.limitLedger! }
        let charged = try await withThrowingTaskGroup(of: Int.self) { group in
            for i in 0..<60 {
                group.addTask {
                    if case .admitted = try await ledgers[i % 3].chargeCharacters(key: "k", day: "2026-12-06", characters: 7, limit: 200) { return 7 }
                    return 0
                }
            }
            return try await group.reduce(0, +)
        }
        #expect(charged == 196) // 28 texts of 7; the 29th would make 203
        #expect(try await stores[1].usage(day: "2026-12-06")["k"]?.characters == 196)
        if case .refused(let used, _) = try await ledgers[2].chargeCharacters(key: "k", day: "2026-12-06", characters: 5, limit: 200) {
            #expect(used == 196)
        } else {
            Issue.record("5 more characters fit in 200 after 196")
        }
        let now = Date()
        let admitted = try await withThrowingTaskGroup(of: Int.self) { group in
            for i in 0..<30 {
                group.addTask {
                    if case .admitted = try await ledgers[i % 3].countRequest(key: "k", limit: 10, now: now) { return 1 }
                    return 0
                }
            }
            return try await group.reduce(0, +)
        }
        #expect(admitted == 10)
        if case .refused(_, let wait) = try await ledgers[0].countRequest(key: "k", limit: 10, now: now.addingTimeInterval(30)) {
            #expect((29...31).contains(wait))
        } else {
            Issue.record("the minute is still full 30 s later")
        }
        if case .admitted(let used) = try await ledgers[0].countRequest(key: "k", limit: 10, now: now.addingTimeInterval(61)) {
            #expect(used == 1)
        } else {
            Issue.record("a minute later there is room again")
        }
        for store in stores { try await store.close() }
    }

    @Test func aWrongPasswordARefusedPortOrAMissingDatabaseStopsTheStartWithOneLine() async throws {
        let server = try await PostgresServer.shared()
        let url = try await server.makeDatabase()
        let database = String(url.split(separator: "/").last!.split(separator: "?").first!)
        await #expect(throws: StoreError.unavailable(
            "cannot connect to the store postgres://voicegate:***@127.0.0.1:\(server.port)/\(database)?sslmode=disable: password authentication failed for user \"voicegate\"")) {
            try await Self.open(server.url(database: database, password: "wrong"))
        }
        do {
            _ = try await Self.open(server.url(database: "no_such_db"))
            Issue.record("opened a database that does not exist")
        } catch {
            #expect("\(error)".hasSuffix("database \"no_such_db\" does not exist"), "\(error)")
        }
        let closed = try ClosedPort()
        do {
            _ = try await Self.open("postgres://u:p@127.0.0.1:\(closed.port)/vg?sslmode=disable")
            Issue.record("opened a store where nothing listens")
        } catch {
            let line = "\(error)"
            #expect(line.hasPrefix("cannot connect to the store postgres://u:***@127.0.0.1:\(closed.port)/vg"), "\(line)")
            #expect(!line.contains("\n") && !line.contains(":p@"))
        }
    }
}
