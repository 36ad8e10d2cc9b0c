import Foundation

/// Polls `condition` until it holds or `timeout` passes; for state that background tasks reach. The default is
/// generous because it costs nothing when the condition holds: it only bounds a test that went wrong.
func eventually(timeout: Double = 15, _ condition: @Sendable () async throws -> Bool) async rethrows -> Bool {
    let deadline = Date().addingTimeInterval(timeout)
    while Date() < deadline {
        if try await condition() { return true }
        try? await Task.sleep(for: .milliseconds(20))
    }
    return try await condition()
}
