import Foundation
import SovitsDouble
import Testing
@testable import VoiceGateCore

@Suite("The fair queue in front of the upstream")
struct QueueIntegrationTests {
    @Test func aFullQueueAnswers503WithRetryAfter() async throws {
        try await TestGateway.run(env: ["QUEUE_MAX": "1"]) { t in
            // One runs (held by the double until the end), one waits, then the queue is full: each step waited for,
            // not timed (the suite loads 2 cores).
            let queue = t.gateway.service.queue
            async let first = t.synthesize(.synthesis(text: "Queued request 0. [hold]"))
            #expect(await eventually { queue.snapshot.running == 1 })
            async let second = t.synthesize(.synthesis(text: "Queued request 1."))
            #expect(await eventually { queue.snapshot.waiting == 1 })
            let full = [try await t.synthesize(.synthesis(text: "Queued request 2.")), try await t.synthesize(.synthesis(text: "Queued request 3."))]
            #expect(full.allSatisfy { $0.status == 503 && $0.errorCode == "queue_full" && $0.header("Retry-After") != nil })
            t.double!.hold.release()
            #expect(try await first.status == 200)
            #expect(try await second.status == 200)
        }
    }

    @Test func waitingPastTheQueueTimeoutAnswers503() async throws {
        try await TestGateway.run(env: ["QUEUE_TIMEOUT": "0.3"]) { t in
            async let first = t.synthesize(.synthesis(text: "First in line. [hold]"))
            #expect(await eventually { t.gateway.service.queue.snapshot.running == 1 })
            let second = try await t.synthesize(.synthesis(text: "Second in line."))
            #expect(second.status == 503)
            #expect(second.errorCode == "queue_timeout")
            #expect(second.header("Retry-After") != nil)
            t.double!.hold.release()
            #expect(try await first.status == 200)
        }
    }

    @Test func aClientThatDisconnectsLeavesTheQueue() async throws {
        try await TestGateway.run { t in
            async let first = t.synthesize(.synthesis(text: "Holds the upstream. [hold]"))
            #expect(await eventually { t.gateway.service.queue.snapshot.running == 1 })
            let waiting = Task { try await t.synthesize(.synthesis(text: "Gives up while waiting.")) }
            #expect(await eventually { t.gateway.service.queue.snapshot.waiting == 1 })
            waiting.cancel()
            // While the first request still holds the upstream, the waiter is gone.
            #expect(await eventually(timeout: 1.5) { t.gateway.service.queue.snapshot.waiting == 0 })
            #expect(t.gateway.service.queue.snapshot.running == 1)
            t.double!.hold.release()
            #expect(try await first.status == 200)
            try await Task.sleep(for: .milliseconds(200))
            #expect(t.double?.recorder.stats.ttsRequests == 1)
        }
    }

    @Test func shutdownLetsRunningAndQueuedRequestsFinish() async throws {
        try await TestGateway.run { t in
            let statuses = try await withThrowingTaskGroup(of: Int.self) { group in
                for i in 0..<3 {
                    group.addTask { try await t.synthesize(.synthesis(text: "Drained request \(i). [hold]")).status }
                }
                #expect(await eventually { t.gateway.service.queue.snapshot.running == 1 && t.gateway.service.queue.snapshot.waiting == 2 })
                await t.beginShutdown()
                t.double!.hold.release()
                return try await group.reduce(into: []) { $0.append($1) }
            }
            #expect(statuses == [200, 200, 200])
            #expect(t.double?.recorder.stats.ttsRequests == 3)
        }
    }
}
