import Logging
import Synchronization
import Testing
@testable import VoiceGateCore

/// Who gets a place at the connection limits, without sockets.
@Suite("Connection gate")
struct ConnectionGateTests {
    let quiet = Logger(label: "quiet") { _ in SwiftLogNoOpLogHandler() }

    final class Closed: Sendable {
        let names = Mutex<[String]>([])
        func closer(_ name: String) -> @Sendable (ConnectionGate.Standing) -> Void { { _ in self.names.withLock { $0.append(name) } } }
        var all: [String] { names.withLock { $0 } }
    }

    func gate(total: Int, perClient: Int) -> ConnectionGate {
        ConnectionGate(limits: ConnectionLimits(maxConnections: total, maxPerClient: perClient, headerTimeout: 20, idleTimeout: 60),
                       logger: quiet)
    }

    @Test func oneAddressIsRefusedPastItsShareWhileAnotherIsAdmitted() throws {
        let g = gate(total: 10, perClient: 2)
        let closed = Closed()
        _ = try g.admit("10.0.0.1", close: closed.closer("a")).get()
        _ = try g.admit("10.0.0.1", close: closed.closer("b")).get()
        #expect(throws: ConnectionGate.Refusal.perClient) { try g.admit("10.0.0.1", close: closed.closer("c")).get() }
        _ = try g.admit("10.0.0.2", close: closed.closer("d")).get()
        #expect(g.snapshot.open == 3)
        #expect(g.snapshot.addresses == 2)
        #expect(g.snapshot.refused == [.perClient: 1])
        #expect(closed.all.isEmpty)
    }

    @Test func atTheLimitTheLongestWaitingForItsHeadMakesRoomThenTheLongestIdleNeverABusyOne() throws {
        let g = gate(total: 3, perClient: 3)
        let closed = Closed()
        let busy = try g.admit("a", close: closed.closer("busy")).get()
        g.update(busy, to: .busy)
        let idle = try g.admit("b", close: closed.closer("idle")).get()
        g.update(idle, to: .idle)
        let silent = try g.admit("c", close: closed.closer("silent")).get()
        _ = try g.admit("d", close: closed.closer("newcomer1")).get()
        #expect(closed.all == ["silent"])
        g.release(silent) // its close arrives later: a no-op, its place is already gone
        #expect(g.snapshot.open == 3)
        // The newcomer itself waits for its head now: the oldest such goes first.
        g.update(idle, to: .idle)
        _ = try g.admit("e", close: closed.closer("newcomer2")).get()
        #expect(closed.all == ["silent", "newcomer1"])
        g.update(try g.admit("f", close: closed.closer("newcomer3")).get(), to: .busy)
        #expect(closed.all == ["silent", "newcomer1", "newcomer2"])
        _ = try g.admit("g", close: closed.closer("newcomer4")).get()
        #expect(closed.all == ["silent", "newcomer1", "newcomer2", "idle"])
        g.update(try g.admit("h", close: closed.closer("x")).get(), to: .busy)
        // Now all three are busy: refused.
        #expect(throws: ConnectionGate.Refusal.total) { try g.admit("i", close: closed.closer("refused")).get() }
        #expect(g.snapshot.evicted == 5)
        #expect(g.snapshot.open == 3)
        g.release(busy)
        #expect(g.snapshot.open == 2)
    }

    @Test func aCrawlingUploadGoesBeforeAnIdleConnectionAndOnlyBusyOnesAreRefused() throws {
        let g = gate(total: 2, perClient: 2)
        let closed = Closed()
        let idle = try g.admit("a", close: closed.closer("idle")).get()
        g.update(idle, to: .idle)
        let upload = try g.admit("b", close: closed.closer("upload")).get()
        g.update(upload, to: .slowBody)
        g.update(try g.admit("c", close: closed.closer("c")).get(), to: .busy)
        #expect(closed.all == ["upload"])
        #expect(g.snapshot.timedOut[.slowBody] == 1)
        g.update(try g.admit("d", close: closed.closer("d")).get(), to: .busy)
        #expect(closed.all == ["upload", "idle"])
        #expect(throws: ConnectionGate.Refusal.total) { try g.admit("e", close: closed.closer("e")).get() }
    }

    @Test func theAddressWithTheMostConnectionsGivesUpAPlaceFirst() throws {
        let g = gate(total: 4, perClient: 4)
        let closed = Closed()
        // The lone client is the oldest and still waiting for its head; the crowd's connections are idle.
        _ = try g.admit("lone", close: closed.closer("lone")).get()
        for i in 1...3 { g.update(try g.admit("crowd", close: closed.closer("crowd\(i)")).get(), to: .idle) }
        _ = try g.admit("new", close: closed.closer("new")).get()
        #expect(closed.all == ["crowd1"])
    }

    @Test func theDefaultsLeaveAReserveAndTwoDescriptorsAConnection() throws {
        #expect(ConnectionLimits.defaultMaxConnections(descriptorLimit: 256) == 96)
        #expect(ConnectionLimits.defaultMaxConnections(descriptorLimit: 1024) == 461)
        #expect(ConnectionLimits.defaultMaxConnections(descriptorLimit: 1_048_576) == 16_384)
        var config = GatewayConfig()
        let limits = try config.connectionLimits(descriptorLimit: 1024)
        #expect(limits.maxConnections == 461 && limits.maxPerClient == 115)
        config.maxConnections = 1000
        #expect(throws: ConfigError.self) { try config.connectionLimits(descriptorLimit: 1024) }
        config.maxConnections = 100
        config.maxConnectionsPerClient = 500
        #expect(try config.connectionLimits(descriptorLimit: 1024).maxPerClient == 100)
    }
}
