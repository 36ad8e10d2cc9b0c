import Foundation
import Synchronization
import Testing
@testable import VoiceGateCore

@Suite("FairQueue")
struct FairQueueTests {
    @Test func servesWaitersInArrivalOrder() async throws {
        let queue = FairQueue(maxConcurrency: 1, maxWaiting: 10)
        let first = try await queue.acquire(timeout: 5)
        let order = Recorded<Int>()
        try await withThrowingTaskGroup(of: Void.self) { group in
            for i in 0..<5 {
                let ticket = queue.makeTicket()
                group.addTask {
                    let lease = try await queue.acquire(ticket: ticket, timeout: 5)
                    order.append(i)
                    lease.release()
                }
                #expect(await eventually { queue.position(of: ticket) == i + 1 })
            }
            first.release()
            try await group.waitForAll()
        }
        #expect(order.values == [0, 1, 2, 3, 4])
        #expect(queue.snapshot.running == 0)
    }

    /// A key's own requests go before its job's items in its lane; other lanes keep their turns.
    @Test func aLanesOwnRequestsPassItsBackgroundItems() async throws {
        let queue = FairQueue(maxConcurrency: 1, maxWaiting: 10)
        let first = try await queue.acquire(timeout: 5)
        let order = Recorded<String>()
        try await withThrowingTaskGroup(of: Void.self) { group in
            for (name, lane, background) in [("item-1", "k", true), ("item-2", "k", true), ("other", "b", false), ("own", "k", false)] {
                let ticket = queue.makeTicket()
                group.addTask {
                    let lease = try await queue.acquire(ticket: ticket, lane: lane, background: background, timeout: 5)
                    order.append(name)
                    lease.release()
                }
                #expect(await eventually { queue.position(of: ticket) != nil })
            }
            first.release()
            try await group.waitForAll()
        }
        #expect(order.values == ["own", "other", "item-1", "item-2"])
    }

    @Test func refusesBeyondMaxWaiting() async throws {
        let queue = FairQueue(maxConcurrency: 1, maxWaiting: 1)
        let lease = try await queue.acquire(timeout: 5)
        let waiter = Task { try await queue.acquire(timeout: 5) }
        #expect(await eventually { queue.snapshot.waiting == 1 })
        await #expect(throws: QueueError.full(waiting: 1)) { _ = try await queue.acquire(timeout: 5) }
        lease.release()
        try await waiter.value.release()
    }

    @Test func timesOutAndCancelsWaiters() async throws {
        let queue = FairQueue(maxConcurrency: 1, maxWaiting: 5)
        let lease = try await queue.acquire(timeout: 5)
        await #expect(throws: QueueError.timedOut(after: 0.05)) { _ = try await queue.acquire(timeout: 0.05) }
        let cancelled = Task { try await queue.acquire(timeout: 5) }
        #expect(await eventually { queue.snapshot.waiting == 1 })
        cancelled.cancel()
        await #expect(throws: CancellationError.self) { _ = try await cancelled.value }
        #expect(queue.snapshot.waiting == 0)
        lease.release()
        #expect(queue.snapshot.running == 0)
    }

    @Test func aDroppedLeaseIsReleasedOnce() async throws {
        let queue = FairQueue(maxConcurrency: 2, maxWaiting: 0)
        do {
            let lease = try await queue.acquire(timeout: 1)
            lease.release()
            lease.release()
            _ = try await queue.acquire(timeout: 1) // dropped at once
        }
        #expect(queue.snapshot.running == 0)
    }
}

/// Values appended from several tasks, read back in the order they arrived.
final class Recorded<T: Sendable>: Sendable {
    private let storage = Mutex<[T]>([])
    func append(_ value: T) { storage.withLock { $0.append(value) } }
    var values: [T] { storage.withLock { $0 } }
}
