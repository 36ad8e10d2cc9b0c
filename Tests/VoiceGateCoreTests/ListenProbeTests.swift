import Foundation
import NIOCore
import Testing
@testable import VoiceGateCore

/// The startup probe of the listening address: it tells a taken port, and never keeps a client that connects to it.
@Suite("Listen probe")
struct ListenProbeTests {
    /// A client that connected while the probe was bound (a health check during a restart) is reset when the probe
    /// closes, so it tries again and reaches the server. An accepting probe held it unanswered: the headless startup
    /// test's `curl` waited 60 s for it under CI's load.
    @Test func aClientThatConnectsToTheProbeIsLetGoWhenItCloses() async throws {
        let probe = try await ListenProbe.bind(host: "127.0.0.1", port: 0)
        let port = try #require(probe.localAddress?.port)
        let client = try await RawConnection.open(port: port)
        try await client.send(ConnectionLimitTests.health)
        try await probe.close()
        #expect(await eventually { !client.isOpen })
        #expect(client.received.text.isEmpty)
    }

    @Test func aTakenPortIsTheBindError() async throws {
        let taken = try await ListenProbe.bind(host: "127.0.0.1", port: 0)
        let port = try #require(taken.localAddress?.port)
        let error = await ListenProbe.check(host: "127.0.0.1", port: port)
        try await taken.close()
        #expect((error as? IOError)?.errnoCode == EADDRINUSE)
        #expect(await ListenProbe.check(host: "127.0.0.1", port: port) == nil)
    }
}
