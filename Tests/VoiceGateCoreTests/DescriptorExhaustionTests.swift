import Foundation
import Subprocess
import SystemPackage
import Testing
@testable import VoiceGateCore

/// The reproducer of the libdispatch trap, in the suite: `voicegate --server` under a soft and hard descriptor limit
/// of 256, flooded with three times that in silent, trickling and crawling connections from 32 addresses, while an
/// honest client asks `/health` and synthesizes. Before the connection limits this killed the process (SIGILL).
@Suite("Descriptor exhaustion")
struct DescriptorExhaustionTests {
    static let limit = 256
    static let key = "exhaustion-key-0123456789"

    @Test func aFloodUnderALowDescriptorLimitLeavesTheGatewayServingAndGivesEverythingBack() async throws {
        DescriptorLimit.raiseSoftToHard() // this test's own 768 sockets
        let port = try TestGateway.unusedPort()
        let dir = NSTemporaryDirectory() + "vg-exhaustion-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let environment = Environment.inherit.updating([
            "DATA_DIR": dir + "/data", "PORT": String(port), "API_KEY": Self.key, "LOG_LEVEL": "error",
            "CLIENT_HEADER_TIMEOUT": "3", "CLIENT_IDLE_TIMEOUT": "5",
        ])
        let result = try await Subprocess.run(
            .path("/bin/sh"), arguments: ["-c", "ulimit -n \(Self.limit) && exec timeout 120 \"$0\" --server", ConsoleTmuxTests.binary],
            environment: environment, workingDirectory: FilePath(dir), input: .none, output: .discarded, error: .discarded
        ) { execution -> Outcome in
            let pid = execution.processIdentifier.value
            defer { _ = try? execution.send(signal: .terminate) }
            return try await Self.flood(port: port, pid: pid)
        }
        let outcome = result.closureResult
        #expect(outcome.honestFailures.isEmpty, "\(outcome.honestFailures)")
        #expect(outcome.honestServed == 12)
        #expect(outcome.aliveAfter)
        #expect(outcome.peakDescriptors < Self.limit, "peak \(outcome.peakDescriptors) of \(Self.limit)")
        #expect(outcome.descriptorsAfter <= outcome.descriptorsBefore + 4,
                "descriptors before \(outcome.descriptorsBefore), after \(outcome.descriptorsAfter)")
        #expect(result.terminationStatus == .exited(0), "a clean SIGTERM, not a crash")
    }

    struct Outcome: Sendable {
        var honestServed = 0
        var honestFailures: [String] = []
        var descriptorsBefore = 0
        var peakDescriptors = 0
        var descriptorsAfter = 0
        var aliveAfter = false
    }

    static func descriptors(_ pid: pid_t) -> Int {
        (try? FileManager.default.contentsOfDirectory(atPath: "/proc/\(pid)/fd").count) ?? -1
    }

    static func honestRound(port: Int) async -> [String] {
        var failures: [String] = []
        let health = (try? await RawConnection.exchange(port: port, "GET /health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")) ?? "refused"
        if !health.hasPrefix("HTTP/1.1 200") { failures.append("health: \(health.prefix(120))") }
        let form = Multipart.synthesis(text: "Still here.", reference: TestAudio.wav(seconds: 4))
        let head = "POST /api/v1/voice/synthesize HTTP/1.1\r\nHost: x\r\nX-API-Key: \(key)\r\nConnection: close\r\n"
            + "Content-Type: \(form.contentType)\r\nContent-Length: \(form.body.count)\r\n\r\n"
        let synthesis = (try? await RawConnection.exchange(port: port, head, body: Array(form.body))) ?? "refused"
        if !synthesis.hasPrefix("HTTP/1.1 200") { failures.append("synthesize: \(synthesis.prefix(200))") }
        return failures
    }

    static func flood(port: Int, pid: pid_t) async throws -> Outcome {
        var outcome = Outcome()
        guard await eventually(timeout: 30, { (try? await RawConnection.exchange(port: port, "GET /health HTTP/1.1\r\nConnection: close\r\n\r\n"))?.hasPrefix("HTTP/1.1 200") == true }) else {
            outcome.honestFailures.append("the gateway did not start")
            return outcome
        }
        outcome.honestFailures += await honestRound(port: port) // warm: the store, the engine, the first upload
        try await Task.sleep(for: .milliseconds(300))
        outcome.descriptorsBefore = descriptors(pid)
        let address = { (i: Int) in "127.0.0.\(2 + i % 32)" }
        let uploadHead = "POST /api/v1/voice/synthesize HTTP/1.1\r\nHost: x\r\nX-API-Key: \(key)\r\n"
            + "Content-Type: multipart/form-data; boundary=b\r\nContent-Length: 170000\r\n\r\n"
        var silent: [RawConnection] = [], trickling: [RawConnection] = [], crawling: [RawConnection] = []
        func topUp() async {
            // What the gateway closed is opened again: the attack lasts as long as the test.
            silent.removeAll { !$0.isOpen }
            trickling.removeAll { !$0.isOpen }
            crawling.removeAll { !$0.isOpen }
            for i in silent.count..<limit { if let c = try? await RawConnection.open(port: port, from: address(i)) { silent.append(c) } }
            for i in trickling.count..<limit {
                if let c = try? await RawConnection.open(port: port, from: address(i)) {
                    try? await c.send("GET /health HTTP/1.1\r\n")
                    trickling.append(c)
                }
            }
            for i in crawling.count..<limit {
                if let c = try? await RawConnection.open(port: port, from: address(i)) {
                    try? await c.send(uploadHead + "--b\r\n")
                    crawling.append(c)
                }
            }
        }
        await topUp()
        for tick in 0..<12 {
            // A header byte every 2 s from each trickler, 100 bytes every 0.5 s (200 B/s) from each upload.
            if tick % 4 == 0 { for c in trickling where c.isOpen { try? await c.send("X") } }
            for c in crawling where c.isOpen { try? await c.send(String(repeating: "a", count: 100)) }
            if tick % 2 == 0 {
                let failures = await honestRound(port: port)
                outcome.honestFailures += failures
                if failures.isEmpty { outcome.honestServed += 2 }
            }
            outcome.peakDescriptors = max(outcome.peakDescriptors, descriptors(pid))
            // Topped up every 2 s: enough to keep the gateway at its limit, without a churn that would slow the
            // suite's other (timed) tests running beside this one.
            if tick % 4 == 3 { await topUp() }
            try await Task.sleep(for: .milliseconds(500))
        }
        for c in silent + trickling + crawling { try? await c.channel.close() }
        let baseline = outcome.descriptorsBefore
        _ = await eventually(timeout: 10) { descriptors(pid) <= baseline + 4 }
        outcome.descriptorsAfter = descriptors(pid)
        outcome.honestFailures += await honestRound(port: port)
        outcome.aliveAfter = descriptors(pid) > 0
        return outcome
    }
}
