import Logging
import ServiceLifecycle

/// Logs when a graceful shutdown begins, so operators see the drain start, not just its end.
struct ShutdownAnnouncer: Service {
    let logger: Logger
    let grace: Double

    func run() async throws {
        try? await gracefulShutdown()
        logger.info("shutting down: no new connections; in-flight and queued requests get up to \(Int(grace)) s to finish")
    }
}
