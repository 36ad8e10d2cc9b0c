import Foundation

/// Where jobs and their items live (SQLite or PostgreSQL, `SQLGatewayStore+Jobs`), so that any gateway on the store
/// can run them and a job outlives the process that took it.
public protocol JobStore: Sendable {
    /// The job and all its items, in one transaction.
    func insertJob(_ job: JobRecord, items: [JobItemRecord]) async throws
    func job(id: String) async throws -> JobRecord?
    /// Newest first; `key` nil for every key's.
    func jobs(key: String?, status: JobRecord.Status?, limit: Int) async throws -> [JobRecord]
    func items(ofJob id: String) async throws -> [JobItemRecord]
    /// How far each of `ids` is: items done and failed, and the audio made (ms), in one query (the console's view).
    func itemCounts(ofJobs ids: [String]) async throws -> [String: JobCounts]
    /// An item's outcome (and new text, for a regeneration); false when the job or item is gone.
    func updateItem(job id: String, _ item: JobItemRecord) async throws -> Bool
    /// Moves a job on; `finished` stamps its end (nil clears it). False when it is gone, or its status is not one
    /// of `from` (a job cancelled meanwhile stays cancelled).
    func setJobStatus(_ id: String, _ status: JobRecord.Status, reason: String?, finished: Date?, from: [JobRecord.Status]?) async throws -> Bool
    /// The oldest open job (queued, running or paused) that no gateway runs (or whose runner's lease ran out), now run
    /// by `gateway` for `ttl`.
    func claimJob(gateway: String, ttl: TimeInterval, now: Date) async throws -> JobRecord?
    /// Keeps `gateway`'s leases on `ids`; returns the ids still held (a job cancelled or taken over is not).
    func renewJobs(_ ids: [String], gateway: String, ttl: TimeInterval, now: Date) async throws -> [String]
    /// Gives a job back (this gateway stops, or the job paused).
    func releaseJob(_ id: String, gateway: String) async throws
    /// The job and its items; their files are the caller's to remove.
    func deleteJob(_ id: String) async throws -> Bool
    /// Finished jobs older than `date` (`JOBS_DAYS`), removed; their ids, for their files.
    func pruneJobs(finishedBefore date: Date) async throws -> [String]
}

/// A job's items counted (`JobStore.itemCounts`).
public struct JobCounts: Sendable, Equatable {
    public var done = 0
    public var failed = 0
    public var audioMs = 0

    public init(done: Int = 0, failed: Int = 0, audioMs: Int = 0) {
        self.done = done
        self.failed = failed
        self.audioMs = audioMs
    }
}

/// A job as the console lists it: the record and its items counted.
public struct JobSummary: Sendable, Equatable {
    public var job: JobRecord
    public var counts: JobCounts

    public init(job: JobRecord, counts: JobCounts) {
        self.job = job
        self.counts = counts
    }

    /// Seconds until it is done at the pace it has had (to a tenth), while it runs.
    public func etaSeconds(now: Date) -> Double? {
        let finished = counts.done + counts.failed
        guard job.status == .running || job.status == .queued, counts.done > 0, finished < job.total else { return nil }
        return (now.timeIntervalSince(job.createdAt) / Double(finished) * Double(job.total - finished) * 10).rounded() / 10
    }
}
