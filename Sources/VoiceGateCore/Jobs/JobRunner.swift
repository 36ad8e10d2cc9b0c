import Foundation
import Logging
import ServiceLifecycle
import Synchronization

/// Runs the store's jobs on this gateway, as the Postgres-backed queues do (`postgres.md`): it claims the oldest open
/// job nobody holds (`FOR UPDATE SKIP LOCKED` on PostgreSQL), holds it by a lease it renews every 2 s, and runs its
/// items through the fair queue, one at a time unless the job asks for more (`parallel`). A gateway that dies stops
/// renewing: within `leaseSeconds` its jobs are claimed again (by a restart or another gateway) and resume with the
/// item that was running, since an item is only marked done once its audio is in the jobs folder. Up to `maxJobs`
/// jobs at once.
public final class JobRunner: Service, Sendable {
    static let leaseSeconds: TimeInterval = 6
    static let renewEvery: Duration = .seconds(2)
    /// Jobs submitted here wake the runner at once; this finds those of other gateways and leases run out.
    static let pollEvery: Duration = .seconds(1)
    /// A job paused on a spent quota is tried again after this (by whichever gateway claims it).
    static let pausedRetry: TimeInterval = 60
    /// Jobs run at once here: more than the workers take, so that the fair queue interleaves the items of several
    /// keys' jobs (a long job of one key never keeps another key's job from starting) and no worker waits.
    static func maxJobs(workerPlaces: Int) -> Int { max(8, 4 * workerPlaces) }
    /// An item whose synthesis fails (not a busy or unreachable upstream) is tried this often before it is failed.
    static let itemAttempts = 3

    let store: any JobStore
    let gateway: String
    let synthesizer: JobItemSynthesizer
    let files: JobFiles
    let maxJobs: Int
    let keepDays: Int
    let callbacks: JobCallbacks
    let logger: Logger
    private let running = Mutex<[String: Task<Void, Never>]>([:])
    /// The newest jobs and how far each is, kept fresh while the console shows them (`watch()`).
    private let watched = Mutex<Watched>(Watched())

    private struct Watched {
        var until: ContinuousClock.Instant?
        var jobs: [JobSummary] = []
        /// The job whose items the console shows, and those items.
        var open: String?
        var items: [JobItemRecord] = []
    }
    private let wakeups: AsyncStream<Void>
    private let wakeup: AsyncStream<Void>.Continuation

    init(store: any JobStore, gateway: String, synthesizer: JobItemSynthesizer, files: JobFiles, maxJobs: Int, keepDays: Int,
         callbacks: JobCallbacks, logger: Logger) {
        self.store = store
        self.gateway = gateway
        self.synthesizer = synthesizer
        self.files = files
        self.maxJobs = max(1, maxJobs)
        self.keepDays = keepDays
        self.callbacks = callbacks
        self.logger = logger
        (wakeups, wakeup) = AsyncStream.makeStream(bufferingPolicy: .bufferingNewest(1))
    }

    /// Looks for work now (a job was submitted or an item is to be redone here).
    public func wake() { wakeup.yield() }

    /// The newest jobs of every gateway on the store, as of the last second, while someone watches (the console's
    /// jobs view calls `watch()` each time it draws); nothing is read from the store otherwise.
    public var recent: [JobSummary] { watched.withLock { $0.jobs } }

    /// The items of the job `watch(open:)` names, as of the last second (empty until they are read).
    public var openItems: [JobItemRecord] { watched.withLock { $0.open == nil ? [] : $0.items } }

    /// `open`: a job whose items to keep fresh too.
    public func watch(open: String? = nil) {
        let changed = watched.withLock { w in
            defer { w.until = .now + .seconds(5) }
            let changed = w.until == nil || w.open != open
            if w.open != open { (w.open, w.items) = (open, []) }
            return changed
        }
        if changed { wake() }
    }

    private func refreshWatched() async {
        guard let until = watched.withLock({ $0.until }) else { return }
        guard ContinuousClock.now < until else {
            watched.withLock { $0 = Watched() }
            return
        }
        guard let jobs = try? await store.jobs(key: nil, status: nil, limit: 50),
              let counts = try? await store.itemCounts(ofJobs: jobs.map(\.id)) else { return }
        let summaries = jobs.map { JobSummary(job: $0, counts: counts[$0.id] ?? JobCounts()) }
        let open = watched.withLock { $0.open }
        let items = open == nil ? [] : ((try? await store.items(ofJob: open!)) ?? [])
        watched.withLock { w in
            w.jobs = summaries
            if w.open == open { w.items = items }
        }
    }

    /// The ids of the jobs running here.
    public var runningJobs: [String] { running.withLock { Array($0.keys) }.sorted() }

    public func run() async throws {
        let ticker = Task { [wakeup] in
            while !Task.isCancelled {
                try? await Task.sleep(for: Self.pollEvery)
                wakeup.yield()
            }
        }
        await cancelWhenGracefulShutdown {
            var lastRenewed = ContinuousClock.now
            var renewedAt = ContinuousClock.now
            var prunedAt: ContinuousClock.Instant?
            for await _ in self.wakeups {
                if Task.isCancelled { break }
                let now = ContinuousClock.now
                if now - renewedAt >= Self.renewEvery {
                    renewedAt = now
                    if await self.renew() { lastRenewed = now }
                    // Unrenewed past its lease, a job may be running elsewhere already: stop it here.
                    if now - lastRenewed > .seconds(Self.leaseSeconds - 1) { self.stopAll() }
                }
                if prunedAt.map({ now - $0 > .seconds(3600) }) ?? true {
                    prunedAt = now
                    await self.prune()
                }
                await self.claim()
                await self.refreshWatched()
            }
        }
        ticker.cancel()
        wakeup.finish()
        await stop()
    }

    /// Claims jobs until `maxJobs` run here or none is left.
    private func claim() async {
        while running.withLock({ $0.count }) < maxJobs {
            let job: JobRecord?
            do {
                job = try await store.claimJob(gateway: gateway, ttl: Self.leaseSeconds, now: Date())
            } catch {
                logger.debug("jobs: cannot claim: \(error)")
                return
            }
            guard let job else { return }
            logger.info("job \(job.id): running here (\(job.total) items, key \(job.key))")
            // Made under the lock it removes itself with: a job that ends at once cannot remove itself before it is
            // listed (and then hold its place for good).
            running.withLock { running in
                running[job.id] = Task { [self] in
                    let keep = await execute(job)
                    self.running.withLock { _ = $0.removeValue(forKey: job.id) }
                    if !keep { try? await store.releaseJob(job.id, gateway: gateway) }
                }
            }
        }
    }

    /// Renews the leases of the jobs running here; a job cancelled, deleted or taken over elsewhere is stopped.
    private func renew() async -> Bool {
        let ids = runningJobs
        guard !ids.isEmpty else { return true }
        do {
            let held = Set(try await store.renewJobs(ids, gateway: gateway, ttl: Self.leaseSeconds, now: Date()))
            for id in ids where !held.contains(id) {
                logger.info("job \(id): no longer held here (cancelled, deleted or taken over); stopping it")
                running.withLock { $0[id] }?.cancel()
            }
            return true
        } catch {
            logger.warning("jobs: cannot renew the leases of \(ids.count) jobs: \(error)")
            return false
        }
    }

    private func stopAll() {
        for task in running.withLock({ Array($0.values) }) { task.cancel() }
    }

    /// Stops every job running here and gives it back, so that a restart or another gateway resumes it at once.
    private func stop() async {
        let tasks = running.withLock { Array($0.values) }
        for task in tasks { task.cancel() }
        for task in tasks { await task.value }
    }

    private func prune() async {
        do {
            let removed = try await store.pruneJobs(finishedBefore: Date().addingTimeInterval(-Double(keepDays) * 86400))
            for id in removed { files.remove(id) }
            if !removed.isEmpty { logger.info("jobs: removed \(removed.count) jobs finished over \(keepDays) days ago (JOBS_DAYS)") }
        } catch {
            logger.debug("jobs: cannot prune: \(error)")
        }
    }

    /// What a failed item means for its job.
    enum Disposition: Equatable {
        /// The key's daily characters are spent: the job waits, paused, and is tried again later.
        case pause
        /// Nothing will make the job run (its key or voice is gone).
        case failJob
        /// The upstream or the store is busy or away: the same item again, later, as often as it takes.
        case wait
        /// This item failed: again, up to `itemAttempts` times, then it is failed and the job goes on.
        case retryItem
    }

    static func disposition(_ error: GatewayError) -> Disposition {
        switch error.code {
        case "quota_exceeded": .pause
        case "key_revoked", "unknown_voice": .failJob
        case "rate_limited": .wait
        default: error.statusCode == 503 || error.couldNotConnect || error.code == "upstream_unavailable" ? .wait : .retryItem
        }
    }

    /// How a run of a job's items ended.
    enum Outcome: Equatable {
        /// Every item given out was done or failed.
        case ranAll
        /// The job waits on its key's quota, and keeps its lease until it is tried again.
        case paused
        /// Cancelled, deleted, failed as a whole, taken over or stopped by the store: it is not run here any more.
        case stopped
    }

    /// Runs the job's pending items in order until none is left; true when the job keeps its lease (paused).
    func execute(_ job: JobRecord) async -> Bool {
        do {
            while true {
                let pending = try await store.items(ofJob: job.id).filter { $0.status == .pending }
                if pending.isEmpty { break }
                switch try await run(pending, of: job) {
                case .ranAll: continue
                case .paused: return true
                case .stopped: return false
                }
            }
            let items = try await store.items(ofJob: job.id)
            let failed = items.filter { $0.status == .failed }.count
            let status: JobRecord.Status = failed == items.count && !items.isEmpty ? .failed : .done
            let reason = failed > 0 ? "\(failed) of \(items.count) items failed" : nil
            guard try await store.setJobStatus(job.id, status, reason: reason, finished: Date(), from: JobRecord.Status.open) else { return false }
            logger.info("job \(job.id): \(status.rawValue)\(reason.map { " (\($0))" } ?? "")")
            await finished(job.id)
        } catch {
            if !Task.isCancelled { logger.warning("job \(job.id): stopped here by the store: \(error)") }
        }
        return false
    }

    /// Runs `pending` in index order, `parallel` of them at once (the job's setting): each lane takes the next item
    /// as it finishes one. The first lane to pause or stop the job stops the others.
    private func run(_ pending: [JobItemRecord], of job: JobRecord) async throws -> Outcome {
        let queue = PendingItems(pending)
        let lanes = min(max(1, job.settings.parallel), pending.count)
        return try await withThrowingTaskGroup(of: Outcome.self) { group in
            for _ in 0..<lanes {
                group.addTask { try await self.lane(of: job, taking: queue) }
            }
            // The first lane to end otherwise decides; the others, cancelled, end as stopped or with CancellationError.
            var outcome = Outcome.ranAll
            var failure: (any Error)?
            while let result = await group.nextResult() {
                guard outcome == .ranAll, failure == nil else { continue }
                switch result {
                case .success(let ended): outcome = ended
                case .failure(let error): failure = error
                }
                if outcome != .ranAll || failure != nil { group.cancelAll() }
            }
            if let failure { throw failure }
            return outcome
        }
    }

    /// How the bookkeeping of an answered item ended.
    private enum Recorded {
        case recorded
        /// The job was deleted while the item ran.
        case gone
        /// Its file could not be put in place: the item is to be made again.
        case unwritten(PendingItems.Entry, GatewayError)
    }

    /// Runs the items `queue` gives, one at a time, until it gives none. The next item starts as soon as the last
    /// one's answer is in, as a client's queued request would: the last item's file is put in place and its row,
    /// the file it replaces and the job's status recorded while the next item runs. A crash before that lands
    /// redoes the item.
    private func lane(of claimed: JobRecord, taking queue: PendingItems) async throws -> Outcome {
        var job = claimed
        var waitBackoff = 1.0
        var recording: Task<Recorded, any Error>?
        var voiceAhead: JobItemSynthesizer.VoiceLookup?
        // The last answered item's bookkeeping, once landed; false when the job is gone.
        func recorded() async throws -> Bool {
            defer { recording = nil }
            switch try await recording?.value ?? .recorded {
            case .recorded:
                return true
            case .gone:
                // Deleted while the item ran: its folder goes too (making the item made it again).
                files.remove(job.id)
                return false
            case .unwritten(let entry, let failure):
                guard entry.isLastAttempt else {
                    queue.putBack(entry.retried)
                    return true
                }
                return try await fail(entry, failure)
            }
        }
        func fail(_ entry: PendingItems.Entry, _ failure: GatewayError) async throws -> Bool {
            logger.info("job \(job.id): item \(entry.item.index) failed \(entry.attempts + 1) times: \(failure.message)")
            var failed = entry.item
            (failed.status, failed.error) = (.failed, "\(failure.code): \(failure.message)")
            return try await store.updateItem(job: job.id, failed)
        }
        // Cancelled (another lane paused or stopped the job): the last item's bookkeeping still lands first.
        func stopped() async -> Outcome {
            _ = try? await recording?.value
            return .stopped
        }
        while true {
            guard var entry = queue.next() else {
                // An item that could not be written out may have gone back to the queue.
                guard recording != nil else { break }
                guard try await recorded() else { return .stopped }
                continue
            }
            attempt: while true {
                if Task.isCancelled { return await stopped() }
                // This item's voice was looked up while the last one ran; the next one's is looked up now.
                let voice = voiceAhead
                voiceAhead = synthesizer.lookUpVoice(of: job)
                do {
                    let answered = try await synthesizer.make(entry.item, of: job, voice: voice)
                    guard try await recorded() else { return .stopped }
                    let (store, files, id, wasRunning) = (store, files, job.id, job.status == .running)
                    job.status = .running
                    recording = Task { [entry] in
                        let made: JobItemSynthesizer.Made
                        do { made = try await answered.written.value } catch { return .unwritten(entry, GatewayError.from(error)) }
                        var done = entry.item
                        (done.status, done.durationMs, done.fileName, done.error) = (.done, made.durationMs, made.fileName, nil)
                        guard try await store.updateItem(job: id, done) else { return .gone }
                        if let old = entry.item.fileName { unlink(files.path(id, old)) }
                        if !wasRunning {
                            _ = try await store.setJobStatus(id, .running, reason: nil, finished: nil, from: JobRecord.Status.open)
                        }
                        return .recorded
                    }
                    waitBackoff = 1
                    break attempt
                } catch {
                    if Task.isCancelled { return await stopped() }
                    guard try await recorded() else { return .stopped }
                    let failure = GatewayError.from(error)
                    switch Self.disposition(failure) {
                    case .pause:
                        logger.info("job \(job.id): paused: \(failure.message)")
                        _ = try await store.setJobStatus(job.id, .paused, reason: failure.message, finished: nil, from: JobRecord.Status.open)
                        // Kept by this gateway until the retry is due, then free for any to claim.
                        _ = try await store.renewJobs([job.id], gateway: gateway, ttl: Self.pausedRetry, now: Date())
                        return .paused
                    case .failJob:
                        logger.info("job \(job.id): failed: \(failure.message)")
                        _ = try await store.setJobStatus(job.id, .failed, reason: failure.message, finished: Date(), from: JobRecord.Status.open)
                        await finished(job.id)
                        return .stopped
                    case .wait:
                        logger.debug("job \(job.id): item \(entry.item.index) waits: \(failure.message)")
                        try await Task.sleep(for: .seconds(waitBackoff))
                        waitBackoff = min(30, waitBackoff * 2)
                    case .retryItem:
                        if !entry.isLastAttempt {
                            entry = entry.retried
                            try await Task.sleep(for: .seconds(Double(entry.attempts)))
                            continue attempt
                        }
                        guard try await fail(entry, failure) else { return .stopped }
                        break attempt
                    }
                }
            }
        }
        return .ranAll
    }

    private func finished(_ id: String) async {
        guard let job = try? await store.job(id: id) else { return }
        callbacks.send(for: job)
    }
}

/// A job's pending items, handed out in order to the lanes that run them; an item to be made again goes first.
private final class PendingItems: Sendable {
    struct Entry: Sendable {
        var item: JobItemRecord
        /// Failed attempts so far.
        var attempts = 0

        var retried: Entry { Entry(item: item, attempts: attempts + 1) }

        /// This attempt is the item's last (`JobRunner.itemAttempts`): failing it fails the item.
        var isLastAttempt: Bool { attempts + 1 >= JobRunner.itemAttempts }
    }

    private let entries: Mutex<[Entry]>

    init(_ items: [JobItemRecord]) { entries = Mutex(items.reversed().map { Entry(item: $0) }) }

    func next() -> Entry? { entries.withLock { $0.popLast() } }

    func putBack(_ entry: Entry) { entries.withLock { $0.append(entry) } }
}
