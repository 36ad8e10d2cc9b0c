import Synchronization

/// Where `[hold]` requests wait until the test lets them go: a test that needs the upstream busy for as long as it
/// takes its next steps, however slow the machine, holds a request instead of guessing an inference time.
public final class SovitsDoubleHold: Sendable {
    private let released = Mutex(false)

    public init() {}

    /// Lets every held request, and every later one, go on.
    public func release() { released.withLock { $0 = true } }

    /// Waits until released, at most `limit` (so a failed test still lets the double shut down).
    func wait(limit: Duration) async throws {
        let deadline = ContinuousClock.now + limit
        while !released.withLock({ $0 }) && ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(5))
        }
    }
}
