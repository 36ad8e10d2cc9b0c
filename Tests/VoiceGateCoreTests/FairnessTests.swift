import AsyncHTTPClient
import Foundation
import SovitsDouble
import Synchronization
import Testing
@testable import VoiceGateCore

@Suite("Fair sharing of the upstream between keys")
struct FairnessTests {
    /// Round-robin across lanes, first-in first-out within one; positions say the order the queue will serve.
    @Test func theQueueServesLanesRoundRobinAndPositionsAgree() async throws {
        let queue = FairQueue(maxConcurrency: 1, maxWaiting: 1000)
        let holder = try await queue.acquire(lane: "a", timeout: 5)
        let order = OrderLog()
        var tasks: [Task<Void, any Error>] = []
        var tickets: [(String, UInt64)] = []
        func enqueue(_ lane: String, _ label: String) async {
            let ticket = queue.makeTicket()
            tickets.append((label, ticket))
            tasks.append(Task {
                let lease = try await queue.acquire(ticket: ticket, lane: lane, timeout: 30)
                order.append(label)
                lease.release()
            })
            while queue.position(of: ticket) == nil { await Task.yield() }
        }
        for i in 0..<500 { await enqueue("a", "a\(i)") }
        await enqueue("b", "b0")
        await enqueue("c", "c0")
        await enqueue("b", "b1")
        // Predicted positions: a0 first, then b0, c0, a1, b1, a2, ...
        let positions = Dictionary(uniqueKeysWithValues: tickets.map { ($0.0, queue.position(of: $0.1)!) })
        #expect(positions["a0"] == 1 && positions["b0"] == 2 && positions["c0"] == 3 && positions["a1"] == 4 && positions["b1"] == 5)
        #expect(positions["a499"] == 503)
        #expect(Set(positions.values).count == positions.count)
        holder.release()
        for task in tasks { try await task.value }
        let served = order.labels
        #expect(Array(served.prefix(6)) == ["a0", "b0", "c0", "a1", "b1", "a2"])
        // The served order is exactly the order the positions predicted.
        #expect(served == positions.sorted { $0.value < $1.value }.map(\.key))
    }

    /// Over real sockets: one key queues 500 syntheses; another key's single request starts after at most one
    /// more of the first key's.
    @Test func aKeyWith500QueuedDoesNotStarveAnother() async throws {
        var options = SovitsDoubleOptions()
        options.inferenceDelay = .milliseconds(400)
        try await TestGateway.run(upstream: .double(options), env: ["QUEUE_MAX": "600", "QUEUE_TIMEOUT": "300"]) { (t: TestGateway) async throws in
            let greedy = try await t.makeKey("greedy")
            let modest = try await t.makeKey("modest")
            var configuration = HTTPClient.Configuration()
            configuration.connectionPool = .init(idleTimeout: .seconds(60), concurrentHTTP1ConnectionsPerHostSoftLimit: 600)
            let client = HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
            let wide = TestGateway(gateway: t.gateway, double: t.double, baseURL: t.baseURL, client: client, logs: t.logs,
                                   dataDir: t.dataDir, beginShutdown: t.beginShutdown)
            let reference = TestAudio.wav(seconds: 3)
            let flood = Task {
                try await withThrowingTaskGroup(of: Void.self) { group in
                    for i in 0..<500 {
                        group.addTask { _ = try await wide.synthesize(.synthesis(text: "Greedy number \(i).", reference: reference), key: greedy) }
                    }
                    try await group.waitForAll()
                }
            }
            // All 500 have arrived: one or a few have started, the rest wait.
            #expect(await eventually(timeout: 25) {
                (t.gateway.service.queue.waitingByLane["greedy"] ?? 0) + t.double!.recorder.stats.bodies.count >= 500
            })
            // Counted when the modest request joins the queue (its upload is read first, while greedy ones go on),
            // as places the queue has handed out: one handed out may not have reached the double yet. One worker
            // of one place, so the double sees requests in the order the queue hands them out.
            let queue = t.gateway.service.queue
            let joined = Task {
                while queue.waitingByLane["modest"] == nil { try await Task.sleep(for: .milliseconds(1)) }
                return queue.granted
            }
            let response = try await wide.synthesize(.synthesis(text: "Modest single request.", reference: reference), key: modest)
            let startedBefore = try await joined.value
            #expect(response.status == 200)
            let texts = t.double!.recorder.stats.bodies.compactMap { $0["text"]?.string }
            let index = try #require(texts.firstIndex(of: "Modest single request."))
            #expect(index - startedBefore <= 1, "\(index - startedBefore) greedy requests started before the modest one")
            flood.cancel()
            _ = await flood.result
            #expect(await eventually(timeout: 30) { t.gateway.service.queue.snapshot.waiting == 0 })
            try await client.shutdown()
        }
    }
}

final class OrderLog: Sendable {
    private let state = Mutex<[String]>([])
    func append(_ label: String) { state.withLock { $0.append(label) } }
    var labels: [String] { state.withLock { $0 } }
}
