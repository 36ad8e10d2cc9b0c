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
    let historyMaxRows: Int
    let storage: StorageWatch
    let interval: Duration
    let logger: Logger
    /// This gateway as the others see it, now; and what the last round read of all of them.
    let presence: @Sendable () -> GatewayPresence
    let roster: GatewayRoster
    /// Often enough that a busy gateway's history never runs far past `HISTORY_MAX_ROWS`; cheap when nothing is due.
    private let pruneEvery: Duration = .seconds(60)
    private let rounds = AsyncSerialGate()

    init(store: any GatewayStore, keys: KeyRing, meter: UsageMeter, history: HistoryWriter, historyDays: Int, historyMaxRows: Int,
         storage: StorageWatch, presence: @escaping @Sendable () -> GatewayPresence, roster: GatewayRoster,
         interval: Duration = .milliseconds(200), logger: Logger) {
        self.presence = presence
        self.roster = roster
        self.historyMaxRows = historyMaxRows
        self.storage = storage
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
            var round = 0
            while !Task.isCancelled {
                try? await Task.sleep(for: self.interval)
                round += 1
                // Writes every round; the keys are read back every other round (a change counts within half a
                // second) and today's usage once a second (only other gateways change it).
                await self.sync(readKeys: round % 2 == 0, readUsage: round % 5 == 0)
                if round % 5 == 0 { await self.announce() }
                if ContinuousClock.now - lastPrune > self.pruneEvery {
                    await self.prune()
                    lastPrune = .now
                }
            }
        }
        await sync(everything: true)
        try? await store.leave(name: presence().name)
        try? await store.close()
    }

    /// One round: write, then read back; also asked for by `GET /history` before it reads.
    func sync(everything: Bool = false, readKeys: Bool = true, readUsage: Bool = true) async {
        // A round is never cut short: the loop is cancelled at shutdown and a request's flush when its client
        // leaves, and a cancelled transaction would only be rolled back and written again by the next round.
        _ = try? await rounds.run {
            await Task { await self.round(everything: everything, readKeys: readKeys, readUsage: readUsage) }.value
        }
    }

    private func round(everything: Bool, readKeys: Bool, readUsage: Bool) async {
        let drain = meter.drain(everything: everything)
        let batch = StoreBatch(history: history.take(), usage: drain.usage, lastUsed: drain.lastUsed)
        var written = true
        var unreachable: (any Error)?
        if !batch.isEmpty {
            do {
                try await store.write(batch)
                storage.historyWritten()
            } catch {
                written = false
                if StoreError.isUnavailable(error) { unreachable = error }
                history.putBack(batch.history)
                meter.restore(drain)
                storage.historyRefused(error, waiting: history.pendingCount)
                logger.warning("store: cannot write \(batch.history.count) history rows and the usage, will retry: \(StoreError.reason(error))")
            }
        }
        do {
            if readKeys {
                let generation = keys.generation
                keys.replace(try await store.keys(), readAfter: generation)
            }
            if written, readUsage {
                let day = meter.day
                meter.refresh(day: day, stored: try await store.usage(day: day))
            }
        } catch {
            if StoreError.isUnavailable(error) { unreachable = error }
            logger.warning("keys: cannot read the store, keeping the last copy: \(StoreError.reason(error))")
        }
        if readKeys || unreachable != nil { storage.storeReached(unreachable) }
    }

    /// Once a second: this gateway's row, then everyone's.
    private func announce() async {
        do {
            try await store.announce(presence())
            roster.replace(try await store.gateways())
        } catch {
            logger.debug("gateways: cannot announce this one: \(StoreError.reason(error))")
        }
    }

    private func prune() async {
        do {
            let removed = try await store.pruneHistory(before: Date().addingTimeInterval(-Double(historyDays) * 86400),
                                                       keepingAtMost: historyMaxRows)
            if removed > 0 { logger.info("history: pruned \(removed) rows (older than \(historyDays) days, or past the newest \(historyMaxRows))") }
        } catch {
            logger.warning("history: cannot prune: \(error)")
        }
    }
}
