import Foundation
import Testing
@testable import VoiceGateCore
@testable import VoiceGateConsole

@Suite("The synthesis history")
struct HistoryTests {
    static func items(_ r: TestResponse) -> [[String: Any]] { r.json["items"] as? [[String: Any]] ?? [] }

    @Test func everySynthesisIsARowThatSurvivesARestart() async throws {
        let dataDir = TestGateway.makeDataDir()
        defer { try? FileManager.default.removeItem(atPath: dataDir) }
        let ids = SharedValue<[String]>([])
        try await TestGateway.run(dataDir: dataDir) { (t: TestGateway) async throws in
            let client = try await t.makeKey("app")
            let ok = try await t.synthesize(.synthesis(text: "Hello history."), key: client)
            #expect(ok.status == 200)
            let bad = try await t.synthesize(.synthesis(text: "   "), key: client)
            #expect(bad.errorCode == "empty_text")
            let admin = try await t.synthesize(.synthesis(text: "The admin speaks."))
            ids.set([ok, bad, admin].compactMap { $0.header("X-Request-ID") })

            let page = try await t.request(.GET, "/api/v1/history")
            #expect(page.status == 200)
            let rows = Self.items(page)
            #expect(rows.map { $0["request_id"] as? String } == ids.value.reversed())
            let first = rows.last!
            #expect(first["key"] as? String == "app" && first["status"] as? Int == 200 && first["client"] as? String == "127.0.0.1")
            #expect(first["text_length"] as? Int == 14 && first["text"] == nil)
            #expect((first["text_sha256"] as? String)?.count == 64 && (first["reference_sha256"] as? String)?.count == 64)
            #expect(first["engine"] as? String == "gpt-sovits" && first["language"] as? String == "auto")
            for field in ["queue_wait_ms", "time_to_first_byte_ms", "upstream_ms"] { #expect(first[field] is Double, "\(field)") }
            #expect(abs((first["audio_seconds"] as? Double ?? 0) - Double(ok.header("X-Audio-Duration") ?? "")!) < 0.002)
            #expect(first["bytes_sent"] as? Int == ok.body.count)
            #expect(rows[1]["status"] as? Int == 400 && rows[1]["error"] as? String == "empty_text")

            // A client key sees its own rows only.
            let own = Self.items(try await t.request(.GET, "/api/v1/history", key: client))
            #expect(own.count == 2 && own.allSatisfy { $0["key"] as? String == "app" })
            #expect(try await t.request(.GET, "/api/v1/history?key=default", key: client).status == 403)
            // Filters and paging.
            #expect(Self.items(try await t.request(.GET, "/api/v1/history?status=400")).count == 1)
            #expect(Self.items(try await t.request(.GET, "/api/v1/history?key=default")).count == 1)
            let p1 = try await t.request(.GET, "/api/v1/history?limit=2")
            #expect(Self.items(p1).count == 2)
            let cursor = try #require(p1.json["next_cursor"] as? String)
            let p2 = try await t.request(.GET, "/api/v1/history?limit=2&cursor=\(cursor)")
            #expect(Self.items(p2).map { $0["request_id"] as? String } == [ids.value[0]])
            #expect(Self.items(try await t.request(.GET, "/api/v1/history?since=2000-01-01T00:00:00Z&until=\(Int(Date().timeIntervalSince1970) + 60)")).count == 3)
            #expect(Self.items(try await t.request(.GET, "/api/v1/history?since=\(Int(Date().timeIntervalSince1970) + 60)")).isEmpty)
            for bad in ["limit=0", "limit=9999", "status=abc", "since=yesterday", "cursor=-4", "colour=red"] {
                let r = try await t.request(.GET, "/api/v1/history?\(bad)")
                #expect(r.status == 400, "\(bad)")
            }
        }
        try await TestGateway.run(dataDir: dataDir) { (t: TestGateway) async throws in
            let rows = Self.items(try await t.request(.GET, "/api/v1/history"))
            #expect(rows.map { $0["request_id"] as? String } == ids.value.reversed())
        }
    }

    @Test func theTextIsKeptOnlyWhenAskedFor() async throws {
        try await TestGateway.run(env: ["HISTORY_STORE_TEXT": "true"]) { (t: TestGateway) async throws in
            #expect(try await t.synthesize(.synthesis(text: "Keep me.")).status == 200)
            #expect(Self.items(try await t.request(.GET, "/api/v1/history")).first?["text"] as? String == "Keep me.")
        }
    }

    @Test func theConsolesSynthesesAreRecordedLikeAnyOther() async throws {
        try await TestGateway.run { (t: TestGateway) async throws in
            let folder = t.dataDir + "/out"
            let reference = t.dataDir + "/ref.wav"
            try TestAudio.wav(seconds: 4).write(to: URL(fileURLWithPath: reference))
            var form = SynthesisForm(reference: reference)
            form.text = "From the console."
            let state = await ConsoleSynthesizer(gateway: t.gateway).run(form, outputFolder: folder) { _ in }
            guard case .finished = state else { Issue.record("\(state)"); return }
            let rows = Self.items(try await t.request(.GET, "/api/v1/history"))
            #expect(rows.first?["key"] as? String == "console" && rows.first?["client"] as? String == "console")
            #expect(rows.first?["status"] as? Int == 200 && rows.first?["text_length"] as? Int == 17)
            #expect(t.gateway.log.events().contains { $0.key == "console" && $0.synthesis != nil })
        }
    }

    @Test func oldRowsArePruned() async throws {
        let store = try await StoreLocation.sqlite(path: TestGateway.makeDataDir() + "/h.db").open(logger: .init(label: "t"))
        let old = HistoryRecord(time: Date().addingTimeInterval(-40 * 86400), requestID: "old", keyName: "k", client: "c", engine: "e",
                                language: nil, textLength: 1, textHash: nil, text: nil, referenceHash: nil, status: 200, errorCode: nil,
                                queueWait: nil, timeToFirstByte: nil, upstreamTime: nil, audioSeconds: nil, bytesSent: 0)
        var fresh = old
        fresh.time = Date()
        fresh.requestID = "fresh"
        try await store.appendHistory([old, fresh])
        #expect(try await store.pruneHistory(before: Date().addingTimeInterval(-30 * 86400), keepingAtMost: 1000) == 1)
        #expect(try await store.history(HistoryQuery()).map(\.requestID) == ["fresh"])
        try await store.close()
    }

    @Test func beyondTheRowLimitTheOldestGoInBatches() async throws {
        let store = try await StoreLocation.sqlite(path: TestGateway.makeDataDir() + "/h.db").open(logger: .init(label: "t"))
        let rows = (0..<12_000).map { i in
            HistoryRecord(time: Date(), requestID: "r\(i)", keyName: "k", client: "c", engine: "e", language: nil, textLength: 1,
                          textHash: nil, text: nil, referenceHash: nil, status: 200, errorCode: nil, queueWait: nil,
                          timeToFirstByte: nil, upstreamTime: nil, audioSeconds: nil, bytesSent: 0)
        }
        try await store.appendHistory(rows)
        #expect(try await store.pruneHistory(before: Date().addingTimeInterval(-86400), keepingAtMost: 500) == 11_500)
        var query = HistoryQuery()
        query.limit = 1000
        let kept = try await store.history(query).map(\.requestID)
        #expect(kept.count == 500 && kept.contains("r11999") && kept.contains("r11500") && !kept.contains("r11499"))
        #expect(try await store.pruneHistory(before: Date().addingTimeInterval(-86400), keepingAtMost: 500) == 0)
        try await store.close()
    }

    /// The cap and the age each prune by their own index; a row that is both is removed once. Rows old in time can
    /// sit past newer ones in id order (a gateway that wrote its batch late into a shared store).
    @Test func theCapAndTheAgePruneTogetherEachRowOnce() async throws {
        let store = try await StoreLocation.sqlite(path: TestGateway.makeDataDir() + "/h.db").open(logger: .init(label: "t"))
        let rows = (0..<7_000).map { i in
            HistoryRecord(time: i < 6_000 || i >= 6_100 ? Date() : Date().addingTimeInterval(-40 * 86400), requestID: "r\(i)",
                          keyName: "k", client: "c", engine: "e", language: nil, textLength: 1, textHash: nil, text: nil,
                          referenceHash: nil, status: 200, errorCode: nil, queueWait: nil, timeToFirstByte: nil,
                          upstreamTime: nil, audioSeconds: nil, bytesSent: 0)
        }
        try await store.appendHistory(rows)
        #expect(try await store.pruneHistory(before: Date().addingTimeInterval(-30 * 86400), keepingAtMost: 1000) == 6_100)
        var query = HistoryQuery()
        query.limit = 1000
        let kept = try await store.history(query).map(\.requestID)
        #expect(kept.count == 900 && kept.last == "r6100" && kept.first == "r6999")
        try await store.close()
    }
}
