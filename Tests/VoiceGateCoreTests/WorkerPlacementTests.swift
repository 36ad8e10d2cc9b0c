import Foundation
import Testing
@testable import VoiceGateCore

/// Where the queue sends a request among several workers: the weights already loaded first, a switch only on an
/// idle worker, only when nobody waiting fits a free one and only when it pays, retries elsewhere, nothing to a
/// drained worker.
@Suite("Placing requests on workers")
struct WorkerPlacementTests {
    static let a = ModelWeights(gpt: "a.ckpt", sovits: "a.pth")
    static let b = ModelWeights(gpt: "b.ckpt", sovits: "b.pth")

    @Test func aFreeWorkerWithTheWeightsWinsOverAnIdleOne() async throws {
        let queue = FairQueue(slots: [.init(capacity: 1, weights: Self.a), .init(capacity: 1, weights: Self.b)], maxWaiting: 10)
        let first = try await queue.acquire(weights: Self.b, timeout: 1)
        #expect(first.slot == 1 && first.switchTo == nil)
        let second = try await queue.acquire(weights: Self.a, timeout: 1)
        #expect(second.slot == 0 && second.switchTo == nil)
        #expect(queue.switches == 0)
    }

    @Test func anIdleWorkerSwitchesAtOnceOnlyForWeightsNoWorkerHas() async throws {
        let queue = FairQueue(slots: [.init(capacity: 1, weights: Self.a), .init(capacity: 1, weights: Self.a), .init(capacity: 1, weights: Self.a)],
                              maxWaiting: 10, switchEstimate: .milliseconds(300))
        let zero = try await queue.acquire(weights: Self.a, timeout: 1)
        let one = try await queue.acquire(weights: Self.a, timeout: 1)
        let two = try await queue.acquire(weights: Self.a, timeout: 1)
        #expect([zero.slot, one.slot, two.slot] == [Int](0...2))
        zero.release()
        one.release()
        // 0 and 1 idle now, no worker has b: 0, released first, is the least recently used, and switches at once.
        let switched = try await queue.acquire(weights: Self.b, timeout: 1)
        #expect(switched.switchTo == Self.b && switched.slot == 0)
        // 0 will have b: the next b waits for it rather than switching 1 as well, until it has waited as long as a
        // switch takes. Then nothing else happens in the queue: a wake-up places it.
        let asked = ContinuousClock.now
        let next = try await queue.acquire(weights: Self.b, timeout: 5)
        #expect(ContinuousClock.now - asked >= .milliseconds(300))
        #expect(next.slot == 1 && next.switchTo == Self.b)
        switched.switched(true)
        #expect(queue.loaded(slot: 0) == Self.b)
        #expect(queue.switches == 2)
        two.release(); switched.release(); next.release()
    }

    @Test func aWaiterTakesTheWorkerWithItsWeightsWhenItFreesBeforeASwitchWouldPay() async throws {
        let queue = FairQueue(slots: [.init(capacity: 1, weights: Self.a), .init(capacity: 1, weights: Self.b)],
                              maxWaiting: 10, switchEstimate: .seconds(5))
        let onB = try await queue.acquire(weights: Self.b, timeout: 1)
        let waiting = Task { try await queue.acquire(weights: Self.b, timeout: 10) }
        while queue.snapshot.waiting == 0 { await Task.yield() }
        // Worker 0 is idle, but b is loaded on 1, which frees long before a switch would have paid.
        try await Task.sleep(for: .milliseconds(50))
        #expect(queue.snapshot.waiting == 1)
        onB.release()
        let lease = try await waiting.value
        #expect(lease.slot == 1 && lease.switchTo == nil)
        #expect(queue.switches == 0)
    }

    @Test func theSwitchEstimateIsMeasured() async throws {
        let queue = FairQueue(slots: [.init(capacity: 1, weights: Self.a)], maxWaiting: 10, switchEstimate: .seconds(10))
        let lease = try await queue.acquire(weights: Self.b, timeout: 1)
        #expect(lease.switchTo == Self.b)
        try await Task.sleep(for: .milliseconds(50))
        lease.switched(true)
        #expect(queue.switchEstimate >= .milliseconds(50) && queue.switchEstimate < .seconds(10))
        lease.release()
    }

    @Test func aWaiterWhoseWeightsAreBusyLetsMatchingOnesGoFirstBoundedly() async throws {
        let queue = FairQueue(slots: [.init(capacity: 1, weights: Self.a), .init(capacity: 1, weights: Self.b)], maxWaiting: 100)
        let onA = try await queue.acquire(weights: Self.a, timeout: 1)
        let onB = try await queue.acquire(weights: Self.b, timeout: 1)
        let order = OrderLog()
        var tasks: [Task<Void, any Error>] = []
        // Line: a1, b1, b2, ..., b6 (a single lane: first come, first served but for affinity).
        for (label, weights) in [("a1", Self.a)] + (1...6).map({ ("b\($0)", Self.b) }) {
            let ticket = queue.makeTicket()
            tasks.append(Task {
                let lease = try await queue.acquire(ticket: ticket, lane: "k", weights: weights, timeout: 5)
                order.append(label + (lease.switchTo == nil ? "" : "!") + "@\(lease.slot)")
                lease.switched(true)
                try await Task.sleep(for: .milliseconds(5))
                lease.release()
            })
            while queue.position(of: ticket) == nil { await Task.yield() }
        }
        // Worker b frees: b1 goes (a1 can't use it), then b frees again and again while a stays busy throughout.
        // a1 is passed over at most FairQueue.maxSkips times; then it goes next: worker b is switched for it at
        // once. Then b5 switches it back (no serving worker has b's weights) and b6 follows without a switch.
        onB.release()
        for task in tasks { try await task.value }
        onA.release()
        let served = order.labels
        let a1 = try #require(served.firstIndex { $0.hasPrefix("a1") })
        #expect(a1 <= FairQueue.maxSkips, "\(served)")
        #expect(served.filter { $0.contains("!") } == ["a1!@1", "b5!@1"], "\(served)")
        #expect(Array(served.prefix(FairQueue.maxSkips)) == (1...FairQueue.maxSkips).map { "b\($0)@1" })
    }

    @Test func aRetryGoesFirstAndElsewhere() async throws {
        let queue = FairQueue(slots: [.init(capacity: 1), .init(capacity: 1)], maxWaiting: 10)
        let failed = try await queue.acquire(timeout: 1)
        let busy = try await queue.acquire(timeout: 1)
        let waiting = Task { try await queue.acquire(lane: "x", timeout: 5) }
        while queue.snapshot.waiting == 0 { await Task.yield() }
        failed.release()
        // The waiter got slot 0 at once; the retry then waits for slot 1 — not for 0 — and goes before others.
        let waiter = try await waiting.value
        #expect(waiter.slot == 0)
        let retry = Task { try await queue.acquire(lane: "x", retryExcluding: 0, timeout: 5) }
        let later = Task { try await queue.acquire(lane: "y", timeout: 5) }
        while queue.snapshot.waiting < 2 { await Task.yield() }
        waiter.release()
        #expect(try await later.value.slot == 0)
        busy.release()
        #expect(try await retry.value.slot == 1)
        await #expect(throws: QueueError.noOtherWorker) {
            _ = try await FairQueue(maxConcurrency: 1, maxWaiting: 1).acquire(retryExcluding: 0, timeout: 1)
        }
    }

    @Test func drainedAndDownWorkersGetNothingUnlessAllAreDown() async throws {
        let queue = FairQueue(slots: [.init(capacity: 1), .init(capacity: 1)], maxWaiting: 10)
        queue.setDraining(slot: 0, true)
        let first = try await queue.acquire(timeout: 1)
        #expect(first.slot == 1)
        await #expect(throws: QueueError.timedOut(after: 0.05)) { _ = try await queue.acquire(timeout: 0.05) }
        first.release()
        queue.setUp(slot: 1, false)
        // Every serving worker down: the request still goes to one, to meet the real reason.
        let second = try await queue.acquire(timeout: 1)
        #expect(second.slot == 1)
        second.release()
        queue.setDraining(slot: 1, true)
        await #expect(throws: QueueError.allDraining) { _ = try await queue.acquire(timeout: 1) }
        queue.setDraining(slot: 0, false)
        #expect(try await queue.acquire(timeout: 1).slot == 0)
    }
}
