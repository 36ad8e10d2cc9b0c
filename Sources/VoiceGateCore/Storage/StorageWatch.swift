import Foundation
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// Remembers that a write was refused for want of space, so that the answer is `507 storage_full` with
/// `Retry-After` (the client's request was fine, the disk was not), `/health` says `degraded` and why, a metric
/// counts it, and the upload janitor is woken to make room. The first write that succeeds again clears it.
public final class StorageWatch: Sendable {
    public struct Problem: Sendable, Equatable {
        public var since: Date
        public var message: String
    }

    private struct State {
        var uploads: Problem?
        var history: Problem?
        /// The store (PostgreSQL) could not be reached in the last sync round.
        var store: Problem?
        var refusals = 0
        var wake: AsyncStream<Void>.Continuation?
    }

    private let state = Mutex(State())
    /// Seconds a client is asked to wait after a full disk: about one janitor sweep.
    static let retryAfter = 30

    public init() {}

    /// The error for a failed write of an upload (`what` says which), from `errno`: 507 when the disk or quota is
    /// full, 500 `storage_error` otherwise.
    func refusedUpload(_ what: String, errno code: Int32 = errno) -> GatewayError {
        let reason = String(cString: strerror(code))
        guard code == ENOSPC || code == EDQUOT else { return GatewayError(500, "storage_error", "\(what): \(reason)") }
        let wake = state.withLock { s in
            s.refusals += 1
            if s.uploads == nil { s.uploads = Problem(since: Date(), message: "the reference folder is full (\(reason))") }
            return s.wake
        }
        wake?.yield()
        return GatewayError(507, "storage_full", "\(what): \(reason); the gateway is making room, retry shortly",
                            retryAfter: Self.retryAfter)
    }

    func uploadWritten() {
        state.withLock { if $0.uploads != nil { $0.uploads = nil } }
    }

    /// The store refused a write: rows wait in memory (bounded) until it takes them.
    func historyRefused(_ error: any Error, waiting: Int) {
        state.withLock { s in
            let message = "history cannot be written (\(waiting) rows waiting): \(StoreError.reason(error))"
            s.history = Problem(since: s.history?.since ?? Date(), message: message)
        }
    }

    func historyWritten() {
        state.withLock { if $0.history != nil { $0.history = nil } }
    }

    /// A sync round could not reach the store, or reached it again (`nil`).
    func storeReached(_ failure: (any Error)?) {
        state.withLock { s in
            guard let failure else { s.store = nil; return }
            s.store = Problem(since: s.store?.since ?? Date(), message: "the store cannot be reached: \(StoreError.reason(failure))")
        }
    }

    public var storeReachable: Bool { state.withLock { $0.store == nil } }

    /// What is wrong with storage now, or nil.
    public var problem: String? {
        state.withLock { s in
            let problems = [s.store, s.uploads, s.history].compactMap { $0?.message }
            return problems.isEmpty ? nil : problems.joined(separator: "; ")
        }
    }

    /// Writes refused for want of space since the start.
    public var refusals: Int { state.withLock { $0.refusals } }

    /// Wakes the janitor (its timer, or a full disk).
    func wake() { _ = state.withLock { $0.wake }?.yield() }

    /// Wake-ups for the janitor: its minute, and each time the disk is found full.
    func wakeUps() -> AsyncStream<Void> {
        let (stream, continuation) = AsyncStream<Void>.makeStream(bufferingPolicy: .bufferingNewest(1))
        state.withLock { $0.wake = continuation }
        return stream
    }
}
