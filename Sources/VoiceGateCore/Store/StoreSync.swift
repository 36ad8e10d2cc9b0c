import Foundation
import Logging
import ServiceLifecycle

/// Moves state between the gateway and its store a few times a second: writes finished syntheses and usage
/// increments in batches, then reads back the keys and today's usage (so the CLI, the admin API of another
/// gateway, or a revocation count within a second), and prunes old history. Stops after the HTTP server has
/// drained and writes what is left.
final class StoreSync: Service {
    let store: any GatewayStore
    let keys: KeyRing
    let meter: UsageMeter
    let history: HistoryWriter
    let historyDays: Int
    let interval: Duration
    let logger: Logger
    private let pruneEvery: Duration = .seconds(3600)

    init(store: any GatewayStore, keys: KeyRing, meter: UsageMeter, history: HistoryWriter, historyDays: Int,
         interval: Duration = .milliseconds(200), logger: Logger) {
        self.store = store
        self.keys = keys
        self.meter = meter
        self.history = history
        self.historyDays = historyDays
        self.interval = interval
        self.logger = logger
    }

    func run() async throws {
        await prune()
        await cancelWhenGracefulShutdown {
            var lastPrune = ContinuousClock.now
            while !Task.isCancelled {
                try? await Task.sleep(for: self.interval)
                await self.sync()
                if ContinuousClock.now - lastPrune > self.pruneEvery {
                    await self.prune()
                    lastPrune = .now
                }
            }
        }
        await sync()
        try? await store.close()
    }

    /// One round: write, then read back. Public to tests through `Gateway.syncStore()`.
    func sync() async {
        let rows = history.take()
        if !rows.isEmpty {
            do {
                try await store.appendHistory(rows)
            } catch {
                history.putBack(rows)
                logger.warning("history: cannot write \(rows.count) rows, will retry: \(error)")
            }
        }
        let drain = meter.drain()
        var written = true
        if !drain.isEmpty {
            do {
                for (day, usage) in drain.usage { try await store.addUsage(day: day, usage) }
                try await store.markUsed(drain.lastUsed)
            } catch {
                written = false
                meter.restore(drain)
                logger.warning("usage: cannot write, will retry: \(error)")
            }
        }
        do {
            let generation = keys.generation
            keys.replace(try await store.keys(), readAfter: generation)
            if written {
                let day = meter.day
                meter.refresh(day: day, stored: try await store.usage(day: day))
            }
        } catch {
            logger.warning("keys: cannot read the store, keeping the last copy: \(error)")
        }
    }

    private func prune() async {
        do {
            let removed = try await store.pruneHistory(before: Date().addingTimeInterval(-Double(historyDays) * 86400))
            if removed > 0 { logger.info("history: pruned \(removed) rows older than \(historyDays) days") }
        } catch {
            logger.warning("history: cannot prune: \(error)")
        }
    }
}
