import Foundation

/// What an operator or a key does to a job that exists (the HTTP API and the console both): cancel it, or redo
/// one item, optionally with new text. The runner holding the job sees a cancel at its next renewal and a redone
/// item at its next pass; `wake` makes this gateway's runner look at once.
public struct JobControl: Sendable {
    let store: any JobStore
    let wake: @Sendable () -> Void

    public init(store: any JobStore, wake: @escaping @Sendable () -> Void) {
        self.store = store
        self.wake = wake
    }

    /// False when the job had ended already (or is gone).
    public func cancel(_ id: String, by who: String) async throws -> Bool {
        try await store.setJobStatus(id, .cancelled, reason: "cancelled by \(who)", finished: Date(), from: JobRecord.Status.open)
    }

    /// Marks the item pending again (with `text`, if given) and the job queued if it had ended; its old audio stays
    /// until the new one is made.
    public func regenerate(_ job: JobRecord, item: JobItemRecord, text: String? = nil) async throws {
        guard job.status != .cancelled else {
            throw GatewayError(409, "job_finished", "job \(job.id) was cancelled; submit it again")
        }
        var item = item
        if let text {
            item.text = text.trimmed
            if let cue = item.cue { item.cue = SubtitleCue(start: cue.start, end: cue.end, text: item.text) }
        }
        (item.status, item.durationMs, item.error) = (.pending, nil, nil)
        _ = try await store.updateItem(job: job.id, item)
        _ = try await store.setJobStatus(job.id, .queued, reason: nil, finished: nil, from: [.done, .failed])
        wake()
    }
}
