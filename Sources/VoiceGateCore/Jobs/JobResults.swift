import Crypto
import Foundation

/// What a job has produced so far, on its timeline: the finished items in order, where each goes in the joined
/// audio, the subtitles timed from that audio and the joined file itself. Built from the store's rows at each ask,
/// so a job still running serves what is finished, and every gateway serves the same.
public struct JobResults: Sendable {
    public let job: JobRecord
    public let items: [JobItemRecord]
    /// The items with audio, in order.
    public let finished: [JobItemRecord]
    /// Where each of `finished` goes in the joined audio.
    public let placements: [JobTimeline.Placement]

    public init(job: JobRecord, items: [JobItemRecord]) {
        self.job = job
        self.items = items
        finished = items.filter { $0.status == .done && $0.fileName != nil && $0.durationMs != nil }.sorted { $0.index < $1.index }
        let durations = finished.map { $0.durationMs ?? 0 }
        if job.subtitles {
            let cues = finished.map { $0.cue ?? SubtitleCue(start: 0, end: 0, text: $0.text) }
            placements = JobTimeline.dubbed(cues: cues, durations: durations)
        } else {
            placements = JobTimeline.sequential(durations: durations, pauseMs: job.settings.pauseMs)
        }
    }

    public var doneCount: Int { items.count { $0.status == .done } }
    public var failedCount: Int { items.count { $0.status == .failed } }
    public var audioMs: Int { JobTimeline.length(placements) }

    /// Each finished item's placement, by item index.
    public var placementByIndex: [Int: JobTimeline.Placement] {
        Dictionary(uniqueKeysWithValues: zip(finished.map(\.index), placements))
    }

    /// One cue per finished item, timed from the audio produced.
    public func subtitles(_ format: SubtitleFile.Format) -> String {
        SubtitleFile.write(JobTimeline.cues(placements, texts: finished.map(\.text)), as: format)
    }

    /// Seconds until the job is done at the pace it has had, for a job still running.
    public func etaSeconds(now: Date) -> Double? {
        JobSummary(job: job, counts: JobCounts(done: doneCount, failed: failedCount, audioMs: audioMs)).etaSeconds(now: now)
    }

    /// The joined audio in the job's format, built once for what is finished now and kept under a name made from its
    /// items' files, so a new finished or redone item makes a new one. nil while nothing is finished.
    public func joinedAudio(in files: JobFiles) throws -> String? {
        guard !finished.isEmpty else { return nil }
        var digest = SHA256()
        digest.update(data: Array("\(job.settings.format.rawValue) \(job.settings.pauseMs) \(job.subtitles)".utf8))
        for item in finished { digest.update(data: Array("\n\(item.index) \(item.fileName ?? "")".utf8)) }
        let name = "joined-\(digest.finalize().hex.prefix(16)).\(job.settings.format.fileExtension)"
        let path = files.path(job.id, name)
        if FileManager.default.fileExists(atPath: path) { return path }
        let sources = try finished.map { try AudioJoiner.Item(path: files.path(job.id, $0.fileName ?? "")) }
        let partial = path + ".part-" + UUID().uuidString.prefix(8)
        do {
            try AudioJoiner.join(sources, at: placements, format: job.settings.format, to: partial)
        } catch {
            unlink(partial)
            throw error
        }
        guard rename(partial, path) == 0 else {
            unlink(partial)
            throw GatewayError(500, "storage_error", "cannot move the joined audio into place: \(String(cString: strerror(errno)))")
        }
        files.removeFiles(of: job.id) { $0.hasPrefix("joined-") && $0 != name && !$0.contains(".part-") }
        return path
    }
}
