import Foundation
import Testing
@testable import VoiceGateCore

/// What is SQLite's own; the store's contract on both backends is `StoreContractTests`.
@Suite("The SQLite store")
struct StoreTests {
    static func open(_ path: String) async throws -> any GatewayStore {
        try await StoreLocation.sqlite(path: path).open(logger: .init(label: "test"))
    }

    /// What only SQLite does: WAL, so that readers (the CLI, another process) never block the gateway's writer.
    @Test func twoProcessesOnOneFileShareItInWALMode() async throws {
        let path = TestGateway.makeDataDir() + "/m.db"
        let a = try await Self.open(path)
        let b = try await Self.open(path) // a second process opening the same file
        for store in [a, b] {
            let mode = try await (store as! SQLGatewayStore).db.raw("PRAGMA journal_mode").first()?.decode(column: "journal_mode", as: String.self)
            #expect(mode == "wal")
        }
        try await a.insertKey(KeyRecord(name: "k", role: .client, keyHash: "h"))
        #expect(try await b.key(named: "k")?.name == "k")
        #expect(FileManager.default.fileExists(atPath: path + "-wal"))
        try await a.close()
        try await b.close()
    }

    @Test func theMeterHandsIncrementsToTheStoreOnceAndKeepsItsTotals() async throws {
        let meter = UsageMeter()
        let key = KeyRecord(name: "k", role: .client, keyHash: "h", limits: .init(charactersPerDay: 100))
        let permit = try await meter.admit(key)
        try await permit.charge(characters: 60)
        permit.release()
        let drain = meter.drain()
        #expect(drain.usage[meter.day]?["k"] == KeyUsage(requests: 1, characters: 60))
        #expect(meter.drain().usage.isEmpty)
        // Another gateway spent 30 more: the store says 90, which is what counts now.
        meter.refresh(day: meter.day, stored: ["k": KeyUsage(requests: 2, characters: 90)])
        await #expect(throws: GatewayError.self) { try await meter.admit(key).charge(characters: 11) }
        #expect(meter.views(for: [key])[0].today.characters == 90)
        // A failed write is put back and written next time.
        let p2 = try await meter.admit(key)
        try await p2.charge(characters: 5)
        p2.release()
        let failed = meter.drain()
        meter.restore(failed)
        // What was put back and what came since are written together, neither over the other.
        let p3 = try await meter.admit(key)
        try await p3.charge(characters: 2)
        p3.release()
        #expect(meter.drain().usage[meter.day]?["k"] == KeyUsage(requests: 3, characters: 7))
    }
}
