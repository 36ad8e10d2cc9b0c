import Foundation
import NIOCore
import Subprocess
import SystemPackage
import Testing
@testable import VoiceGateCore

/// Slow, silent and too many clients against a real gateway on real sockets: each is closed or refused on time,
/// and an honest client is served throughout.
@Suite("Connection limits")
struct ConnectionLimitTests {
    static let health = "GET /health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"

    @Test func aTricklingOrSilentHeadIsClosedAtTheHeaderTimeout() async throws {
        try await TestGateway.run(env: ["CLIENT_HEADER_TIMEOUT": "1", "CLIENT_IDLE_TIMEOUT": "60"]) { t in
            let started = Date()
            let silent = try await RawConnection.open(port: t.port)
            let trickle = try await RawConnection.open(port: t.port)
            try await trickle.send("GET /health HTTP/1.1\r\n")
            // A byte every 200 ms: each would reset an idle timer, none resets the head's deadline.
            while trickle.isOpen, Date().timeIntervalSince(started) < 10 {
                try? await trickle.send("X")
                try await Task.sleep(for: .milliseconds(200))
            }
            let closedAfter = Date().timeIntervalSince(started)
            #expect(closedAfter >= 0.9 && closedAfter < 5, "closed after \(closedAfter) s; \(t.gateway.connections.snapshot)")
            #expect(await eventually { !silent.isOpen })
            #expect(trickle.received.text.isEmpty)
            #expect(t.gateway.connections.snapshot.timedOut[.header] == 2)
            let metrics = try await t.request(.GET, "/metrics")
            #expect(String(decoding: metrics.body, as: UTF8.self).contains("voicegate_connections_timed_out_total{phase=\"header\"} 2"))
        }
    }

    @Test func aKeptAliveConnectionIsNotHurriedByTheHeaderTimeout() async throws {
        try await TestGateway.run(env: ["CLIENT_HEADER_TIMEOUT": "1", "CLIENT_IDLE_TIMEOUT": "60"]) { t in
            let connection = try await RawConnection.open(port: t.port)
            try await connection.send("GET /health HTTP/1.1\r\nHost: x\r\n\r\n")
            #expect(await eventually { connection.received.text.contains("\"status\"") })
            try await Task.sleep(for: .milliseconds(2500))
            #expect(connection.isOpen)
            try await connection.send(Self.health)
            #expect(await eventually { connection.received.text.components(separatedBy: "HTTP/1.1 200 OK").count == 3 })
        }
    }

    @Test func pastItsShareAnAddressIsAnswered503WithRetryAfterWhileOthersAreServed() async throws {
        try await TestGateway.run(env: ["MAX_CONNECTIONS": "8", "MAX_CONNECTIONS_PER_CLIENT": "3"]) { t in
            var held: [RawConnection] = []
            for _ in 0..<3 { held.append(try await RawConnection.open(port: t.port, from: "127.0.0.2")) }
            #expect(await eventually { t.gateway.connections.snapshot.open == 3 })
            let refused = try await RawConnection.exchange(port: t.port, Self.health, from: "127.0.0.2")
            #expect(refused.hasPrefix("HTTP/1.1 503 Service Unavailable\r\n"))
            #expect(refused.contains("Retry-After: 1\r\n"))
            #expect(refused.contains("\"error\":\"too_many_connections\""))
            #expect(try await RawConnection.exchange(port: t.port, Self.health, from: "127.0.0.3").hasPrefix("HTTP/1.1 200 OK"))
            #expect(t.gateway.connections.snapshot.refused == [.perClient: 1])
            for connection in held { try await connection.channel.close() }
        }
    }

    @Test func atTheLimitASilentConnectionMakesRoomForOneThatSendsItsRequest() async throws {
        try await TestGateway.run(env: ["MAX_CONNECTIONS": "4", "MAX_CONNECTIONS_PER_CLIENT": "4", "CLIENT_HEADER_TIMEOUT": "60"]) { t in
            var silent: [RawConnection] = []
            for i in 0..<4 { silent.append(try await RawConnection.open(port: t.port, from: "127.0.0.\(10 + i)")) }
            #expect(await eventually { t.gateway.connections.snapshot.open == 4 })
            #expect(try await RawConnection.exchange(port: t.port, Self.health).hasPrefix("HTTP/1.1 200 OK"))
            #expect(silent.filter(\.isOpen).count == 3)
            #expect(t.gateway.connections.snapshot.evicted == 1)
        }
    }
}
