import Foundation
import SQLKit
import Testing
@testable import VoiceGateCore

/// What only the store on a real PostgreSQL server (`PostgresServer`) does: limits exact across stores, and a start that
/// stops with one line. The queries both backends share run on both in `StoreContractTests`.
@Suite("The PostgreSQL store", .enabled(if: PostgresServer.available, "PostgreSQL is not installed (apt-get install postgresql)"),
       .timeLimit(.minutes(2)))
struct PostgresStoreTests {
    static func open(_ url: String) async throws -> any GatewayStore {
        try await StoreLocation.postgres(url: url).open(logger: .init(label: "test"))
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
