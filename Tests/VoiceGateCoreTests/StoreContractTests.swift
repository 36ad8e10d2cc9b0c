import Foundation
import SQLKit
import Testing
@testable import VoiceGateCore

/// The store a contract test runs on: a new SQLite file, or a new database on the tests' PostgreSQL server.
enum StoreKind: String, CaseIterable, Sendable, CustomTestStringConvertible {
    case sqlite, postgres

    /// PostgreSQL too where it is installed (and always in CI, which sets `VOICEGATE_TEST_POSTGRES=required`).
    static let available: [StoreKind] = PostgresServer.available ? [.sqlite, .postgres] : [.sqlite]

    var testDescription: String { rawValue }

    /// Where a new, empty store of this kind is; every `open` of it is another gateway (or process) on the same store.
    func makeLocation() async throws -> StoreLocation {
        switch self {
        case .sqlite: return .sqlite(path: TestGateway.makeDataDir() + "/store.db")
        case .postgres: return .postgres(url: try await PostgresServer.shared().makeDatabase())
        }
    }
}

/// What every store does, run once on SQLite and once on PostgreSQL (`any GatewayStore & JobStore`): `SQLGatewayStore` is one set of queries on
/// two backends, and these are its contract. What only one backend does is in `StoreTests` and `PostgresStoreTests`.
@Suite("The store, on SQLite and on PostgreSQL", .timeLimit(.minutes(2)))
struct StoreContractTests {
    static func open(_ location: StoreLocation) async throws -> any GatewayStore & JobStore {
        try await location.open(logger: .init(label: "test")) as! any GatewayStore & JobStore
    }

    /// Two stores on one new location of `kind` (two gateways, or two processes), both closed however `body` ends.
    static func withTwoStores(_ kind: StoreKind,
                              _ body: (any GatewayStore & JobStore, any GatewayStore & JobStore) async throws -> Void) async throws {
        let location = try await kind.makeLocation()
        let a = try await open(location)
        do {
            let b = try await open(location)
            do {
                try await body(a, b)
            } catch {
                try? await b.close()
                throw error
            }
            try await b.close()
        } catch {
            try? await a.close()
            throw error
        }
        try await a.close()
    }

    static let now = Date(timeIntervalSince1970: 1_800_000_000.123)

    static func history(_ id: String, key: String, status: Int = 200, at time: Date = now, gateway: String = "gw-a") -> HistoryRecord {
        var record = HistoryRecord(time: time, requestID: id, keyName: key, client: "127.0.0.1", engine: "gpt-sovits-v2", language: "en",
                                   textLength: 12, textHash: String(repeating: "a", count: 64), text: nil, referenceHash: "abc",
                                   status: status, errorCode: status == 200 ? nil : "upstream_error", queueWait: 0.01,
                                   timeToFirstByte: 0.2, upstreamTime: 0.3, audioSeconds: 1.5, bytesSent: 4096)
        record.gateway = gateway
        record.worker = "gpu1"
        return record
    }

    @Test(arguments: StoreKind.available)
    func migrationsAreVersionedAndRunOnceWhenThreeOpenAtOnce(_ kind: StoreKind) async throws {
        let location = try await kind.makeLocation()
        let stores = try await withThrowingTaskGroup(of: (any GatewayStore).self) { group in
            for _ in 0..<3 { group.addTask { try await Self.open(location) } }
            return try await group.reduce(into: []) { $0.append($1) }
        }
        let db = (stores[0] as! SQLGatewayStore).db
        let versions = try await db.select().column("version").from("schema_migrations").orderBy("version").all()
            .map { try $0.decode(column: "version", as: Int.self) }
        #expect(versions == StoreMigrations.all.map(\.version))
        // Limits are counted in the store only where several gateways share it.
        #expect(stores.allSatisfy { ($0.limitLedger != nil) == (kind == .postgres) })
        for store in stores { try await store.close() }
        let again = try await Self.open(location)
        #expect(try await (again as! SQLGatewayStore).db.select().column("version").from("schema_migrations").all().count == versions.count)
        try await again.close()
    }

    @Test(arguments: StoreKind.available)
    func keysRoundTripAndAreSeenByAnotherStoreAtOnce(_ kind: StoreKind) async throws {
        try await Self.withTwoStores(kind) { a, b in
            let key = KeyRecord(name: "team", role: .client, keyHash: KeyRecord.hash("team-secret-0123456789"),
                                limits: .init(requestsPerMinute: 5, charactersPerDay: 100, concurrent: 2),
                                createdAt: Date(timeIntervalSince1970: 1_800_000_000.5))
            try await a.insertKey(key)
            await #expect(throws: StoreError.exists("a key named team (or with the same secret)")) { try await b.insertKey(key) }
            #expect(try await b.key(named: "team") == key)
            #expect(try await b.key(hash: key.keyHash)?.name == "team")
            #expect(try await b.key(hash: "no such hash") == nil)
            var changed = key
            changed.enabled = false
            changed.limits = .init(requestsPerMinute: 9)
            #expect(try await b.updateKey(changed))
            #expect(try await a.key(named: "team")?.enabled == false)
            #expect(try await a.key(named: "team")?.limits == .init(requestsPerMinute: 9))
            var missing = key
            missing.name = "nobody"
            #expect(try await a.updateKey(missing) == false)
            try await a.markUsed(["team": Self.now])
            #expect(try await b.key(named: "team")?.lastUsedAt == Self.now)
            #expect(try await b.keys().map(\.name).contains("team"))
            #expect(try await b.deleteKey(named: "team"))
            #expect(try await a.deleteKey(named: "team") == false)
            #expect(try await a.key(named: "team") == nil)
        }
    }

    @Test(arguments: StoreKind.available)
    func usageIsAddedAsIncrementsFromSeveralWriters(_ kind: StoreKind) async throws {
        try await Self.withTwoStores(kind) { a, b in
            try await a.addUsage(day: "2026-12-02", ["k": KeyUsage(requests: 1, characters: 10, errors: 0)])
            try await b.addUsage(day: "2026-12-02", ["k": KeyUsage(requests: 2, characters: 5, errors: 1), "j": KeyUsage(requests: 1)])
            try await a.addUsage(day: "2026-12-03", ["k": KeyUsage(requests: 7)])
            // Many increments at once from both: none lost.
            try await withThrowingTaskGroup(of: Void.self) { group in
                for i in 0..<20 { group.addTask { try await (i % 2 == 0 ? a : b).addUsage(day: "2026-12-04", ["k": KeyUsage(requests: 1, characters: 3)]) } }
                try await group.waitForAll()
            }
            #expect(try await a.usage(day: "2026-12-02") == ["k": KeyUsage(requests: 3, characters: 15, errors: 1), "j": KeyUsage(requests: 1)])
            #expect(try await b.usage(day: "2026-12-03") == ["k": KeyUsage(requests: 7)])
            #expect(try await b.usage(day: "2026-12-04") == ["k": KeyUsage(requests: 20, characters: 60)])
            #expect(try await b.usage(day: "2026-12-05").isEmpty)
        }
    }

    @Test(arguments: StoreKind.available)
    func historyFromEveryWriterIsOneQueryFilteredPagedAndPruned(_ kind: StoreKind) async throws {
        try await Self.withTwoStores(kind) { a, b in
            try await a.insertKey(KeyRecord(name: "team", role: .client, keyHash: "h1"))
            try await a.write(StoreBatch(history: [Self.history("r1", key: "team", at: Self.now.addingTimeInterval(-10))],
                                         usage: ["2026-12-06": ["team": KeyUsage(requests: 1, characters: 12)]], lastUsed: ["team": Self.now]))
            try await b.appendHistory([Self.history("r2", key: "team", status: 502, gateway: "gw-b"),
                                       Self.history("r3", key: "other", at: Self.now.addingTimeInterval(5), gateway: "gw-b")])
            let all = try await a.history(HistoryQuery())
            #expect(all.map(\.requestID) == ["r3", "r2", "r1"]) // newest first
            #expect(all.last?.time == Self.now.addingTimeInterval(-10) && all.last?.worker == "gpu1" && all.last?.textHash?.count == 64)
            #expect(try await b.usage(day: "2026-12-06") == ["team": KeyUsage(requests: 1, characters: 12)])
            #expect(try await b.key(named: "team")?.lastUsedAt == Self.now)

            #expect(try await b.history(HistoryQuery(key: "team")).map(\.requestID) == ["r2", "r1"])
            #expect(try await b.history(HistoryQuery(status: 502)).map(\.requestID) == ["r2"])
            var byGateway = HistoryQuery()
            byGateway.gateway = "gw-b"
            #expect(try await a.history(byGateway).map(\.requestID) == ["r3", "r2"])
            #expect(try await a.history(HistoryQuery(since: Self.now, until: Self.now.addingTimeInterval(1))).map(\.requestID) == ["r2"])
            let first = try await a.history(HistoryQuery(limit: 2))
            #expect(first.map(\.requestID) == ["r3", "r2"])
            #expect(try await a.history(HistoryQuery(limit: 2, before: first.last!.id)).map(\.requestID) == ["r1"])

            // Older than a date, or over a row count: the oldest go first.
            #expect(try await b.pruneHistory(before: Self.now.addingTimeInterval(-1), keepingAtMost: 1000) == 1)
            #expect(try await a.pruneHistory(before: .distantPast, keepingAtMost: 1) == 1)
            #expect(try await a.history(HistoryQuery()).map(\.requestID) == ["r3"])
        }
    }

    @Test(arguments: StoreKind.available)
    func aVoiceSavedThroughOneIsThereForAnother(_ kind: StoreKind) async throws {
        try await Self.withTwoStores(kind) { a, b in
            let voice = VoiceRecord(name: "narrator", owner: "team", shared: false, fileName: "voices/abc.wav",
                                    info: AudioInfo(format: .wav, duration: 4, sampleRate: 32000, channels: 1), promptText: "Hello.",
                                    promptLanguage: "en", description: "calm", createdAt: Self.now,
                                    weights: ModelWeights(gpt: "GPT_weights/a.ckpt", sovits: "SoVITS_weights/a.pth"))
            try await a.insertVoice(voice)
            await #expect(throws: StoreError.self) { try await b.insertVoice(voice) }
            #expect(try await b.voice(named: "narrator") == voice)
            #expect(try await b.voices().map(\.name) == ["narrator"])
            #expect(try await b.voiceCount(usingFile: "voices/abc.wav") == 1)
            #expect(try await b.voiceCount(usingFile: "voices/other.wav") == 0)
            #expect(try await b.setVoiceShared("narrator", shared: true))
            #expect(try await a.voice(named: "narrator")?.shared == true)
            #expect(try await a.setVoiceShared("nobody", shared: true) == false)
            #expect(try await a.deleteVoice(named: "narrator")?.shared == true)
            #expect(try await b.voice(named: "narrator") == nil)
            #expect(try await b.deleteVoice(named: "narrator") == nil)
        }
    }

    @Test(arguments: StoreKind.available)
    func jobsKeepTheirItemsAndEachOpenJobIsRunByOneGatewayAtATime(_ kind: StoreKind) async throws {
        try await Self.withTwoStores(kind) { a, b in
            var settings = JobRecord.Settings()
            settings.format = .mp3
            settings.pauseMs = 450
            settings.callbackURL = "https://example.com/done"
            settings.parallel = 3
            let first = JobRecord(id: "job-1", key: "team", voice: "narrator", subtitles: true, settings: settings, total: 450, createdAt: Self.now)
            let items = (0..<450).map { JobItemRecord(index: $0, clientID: $0 == 0 ? "line-a" : nil, text: "Line \($0).",
                                                       cue: SubtitleCue(start: $0 * 1000, end: $0 * 1000 + 800, text: "Line \($0).")) }
            try await a.insertJob(first, items: items)
            await #expect(throws: StoreError.self) { try await b.insertJob(first, items: []) }
            #expect(try await b.job(id: "job-1") == first)
            #expect(try await b.items(ofJob: "job-1") == items)
            let second = JobRecord(id: "job-2", key: "other", voice: "narrator", total: 1, createdAt: Self.now.addingTimeInterval(1))
            try await b.insertJob(second, items: [JobItemRecord(index: 0, text: "Hi.")])
            #expect(try await a.jobs(key: nil, status: nil, limit: 10).map(\.id) == ["job-2", "job-1"])
            #expect(try await a.jobs(key: "team", status: .queued, limit: 10).map(\.id) == ["job-1"])

            // Two gateways claim at once: each open job goes to exactly one, the oldest first.
            let claimed = try await withThrowingTaskGroup(of: JobRecord?.self) { group in
                for (store, name) in [(a, "gw-a"), (b, "gw-b"), (a, "gw-a"), (b, "gw-b")] {
                    group.addTask { try await store.claimJob(gateway: name, ttl: 10, now: Self.now) }
                }
                return try await group.reduce(into: [JobRecord]()) { if let job = $1 { $0.append(job) } }
            }
            #expect(claimed.map(\.id).sorted() == ["job-1", "job-2"] && claimed.allSatisfy { $0.status == .running && $0.runner != nil })
            let holder = try #require(try await a.job(id: "job-1")?.runner)
            let other = try #require(try await a.job(id: "job-2")?.runner)
            #expect(try await a.claimJob(gateway: "gw-c", ttl: 10, now: Self.now.addingTimeInterval(5)) == nil)
            #expect(try await b.renewJobs(["job-1"], gateway: holder, ttl: 10, now: Self.now.addingTimeInterval(5)) == ["job-1"])
            #expect(try await b.renewJobs(["job-2"], gateway: other, ttl: 10, now: Self.now.addingTimeInterval(5)) == ["job-2"])
            #expect(try await b.renewJobs(["job-1"], gateway: "gw-c", ttl: 10, now: Self.now.addingTimeInterval(5)).isEmpty)
            // Its runner is gone: 10 s after the last renewal another gateway takes it over, where it stopped.
            #expect(try await a.claimJob(gateway: "gw-c", ttl: 10, now: Self.now.addingTimeInterval(14)) == nil)
            #expect(try await a.claimJob(gateway: "gw-c", ttl: 10, now: Self.now.addingTimeInterval(16))?.id == "job-1")

            var item = items[3]
            item.status = .done
            item.durationMs = 1234
            item.fileName = "jobs/job-1/3.wav"
            #expect(try await b.updateItem(job: "job-1", item))
            item.index = 9999
            #expect(try await b.updateItem(job: "job-1", item) == false)
            #expect(try await a.items(ofJob: "job-1")[3] == JobItemRecord(index: 3, text: "Line 3.", cue: items[3].cue, status: .done,
                                                                            durationMs: 1234, fileName: "jobs/job-1/3.wav"))
            var nul = items[7]
            nul.text = "Nul\u{0} inside."
            #expect(try await b.updateItem(job: "job-1", nul))
            #expect(try await a.items(ofJob: "job-1")[7].text == "Nul\u{FFFD} inside.")
            var failed = items[5]
            failed.status = .failed
            failed.error = "upstream_bad_response"
            #expect(try await b.updateItem(job: "job-1", failed))
            #expect(try await a.itemCounts(ofJobs: ["job-1", "job-2"]) == ["job-1": JobCounts(done: 1, failed: 1, audioMs: 1234)])
            try await a.releaseJob("job-1", gateway: "gw-c")
            #expect(try await b.job(id: "job-1")?.runner == nil)
            #expect(try await b.setJobStatus("job-1", .done, reason: nil, finished: Self.now.addingTimeInterval(20), from: nil))
            // A runner finishing after the job ended (cancelled, say) leaves it as it is.
            #expect(try await a.setJobStatus("job-1", .failed, reason: "late", finished: nil, from: JobRecord.Status.open) == false)
            #expect(try await a.job(id: "job-1")?.status == .done)
            // job-1 is done; job-2's runner stopped renewing at +5.
            #expect(try await a.claimJob(gateway: "gw-a", ttl: 10, now: Self.now.addingTimeInterval(30))?.id == "job-2")
            #expect(try await a.pruneJobs(finishedBefore: Self.now.addingTimeInterval(10)).isEmpty)
            #expect(try await a.pruneJobs(finishedBefore: Self.now.addingTimeInterval(21)) == ["job-1"])
            #expect(try await b.items(ofJob: "job-1").isEmpty)
            #expect(try await b.job(id: "job-1") == nil)
            #expect(try await b.deleteJob("job-2"))
            #expect(try await a.deleteJob("job-2") == false)
        }
    }

    @Test(arguments: StoreKind.available)
    func gatewaysAnnounceThemselvesAndLeave(_ kind: StoreKind) async throws {
        try await Self.withTwoStores(kind) { a, b in
            let started = Date(timeIntervalSince1970: 1_800_000_000)
            var gwA = GatewayPresence(name: "gw-a", address: "10.0.0.1:8000", version: "1", startedAt: started, seenAt: started, inFlight: 2, waiting: 1)
            try await a.announce(gwA)
            try await b.announce(GatewayPresence(name: "gw-b", address: "10.0.0.2:8000", version: "1", startedAt: started,
                                                 seenAt: started, inFlight: 0, waiting: 0))
            gwA.seenAt = started.addingTimeInterval(1)
            gwA.inFlight = 3
            try await a.announce(gwA) // the same gateway again: updated, not added
            let seen = try await b.gateways().sorted { $0.name < $1.name }
            #expect(seen.map(\.name) == ["gw-a", "gw-b"])
            #expect(seen[0].inFlight == 3 && seen[0].seenAt == gwA.seenAt && seen[0].address == "10.0.0.1:8000")
            try await b.leave(name: "gw-b")
            #expect(try await a.gateways().map(\.name) == ["gw-a"])
        }
    }
}
