import Foundation
import VoiceGateCore

/// The jobs view, over the log and the form: the newest long-form jobs of every gateway on the store, each with a
/// progress bar, items done of all, failures, the audio made, the time left and the gateway running it; Enter shows
/// the selected job's items instead.
struct JobsPane {
    static let header = ["JOB", "KEY", "VOICE", "STATUS", "PROGRESS", "ITEMS", "FAILED", "AUDIO", "LEFT", "RUNNER", "CREATED", "REASON"]
    static let counts: Set<Int> = [5, 6, 7, 8]
    static let itemHeader = ["#", "ID", "CHARS", "STATUS", "SECONDS", "STARTS AT", "LATE BY", "ERROR"]
    static let itemCounts: Set<Int> = [0, 2, 4, 5, 6]
    static let barWidth = 12

    static func cells(_ s: JobSummary, this: String, now: Date = Date()) -> [String] {
        let clock = DateFormatter()
        clock.dateFormat = "MM-dd HH:mm"
        let job = s.job
        let open = JobRecord.Status.open.contains(job.status)
        let runner = open ? (job.runner.map { $0 == this ? "\($0) *" : $0 } ?? "-") : "-"
        let finished = s.counts.done + s.counts.failed
        let filled = job.total > 0 ? min(barWidth, finished * barWidth / job.total) : 0
        let bar = String(repeating: "#", count: filled) + String(repeating: ".", count: barWidth - filled)
        return [String(job.id.prefix(8)), job.key, job.voice, job.status.rawValue, bar, "\(s.counts.done)/\(job.total)", "\(s.counts.failed)",
                Self.minutes(s.counts.audioMs), s.etaSeconds(now: now).map(JobProgress.duration) ?? "-", runner, clock.string(from: job.createdAt),
                job.reason ?? ""]
    }

    static func itemCells(_ item: JobItemRecord, _ placement: JobTimeline.Placement?) -> [String] {
        func seconds(_ ms: Int?) -> String { ms.map { DecimalText.format(Double($0) / 1000, places: 2) } ?? "-" }
        return ["\(item.index)", item.clientID ?? "", "\(item.text.count)", item.status.rawValue, seconds(item.durationMs),
                seconds(placement?.start), placement.map { $0.drift > 0 ? seconds($0.drift) : "" } ?? "", item.error ?? ""]
    }

    /// `12.5 min` of audio made.
    static func minutes(_ ms: Int) -> String { DecimalText.format(Double(ms) / 60000, places: 1) + " min" }

    func render(_ state: ConsoleState, _ jobs: [JobSummary], items: [JobItemRecord], this: String, in r: Rect, on canvas: Canvas,
                now: Date = Date()) {
        if let open = state.openJob, let summary = jobs.first(where: { $0.job.id == open }) {
            renderItems(state, summary, items, in: r, on: canvas)
            return
        }
        let inner = r.inner
        let running = jobs.filter { $0.job.status == .running }.count
        Box.draw(canvas, r, title: "Jobs (\(running) running, newest \(jobs.count))  j: log", focused: state.focus == .log, ascii: state.ascii)
        guard inner.height > 0 else { return }
        guard !jobs.isEmpty else {
            canvas.put(inner.x, inner.y, "no jobs yet: POST /api/v1/jobs, or voicegate jobs submit FILE --voice NAME", style: .dim, maxWidth: inner.width)
            return
        }
        let rows = jobs.map { Self.cells($0, this: this, now: now) }
        let styles: [Style] = jobs.map {
            switch $0.job.status {
            case .failed: .bad
            case .paused, .cancelled: .dim
            default: .normal
            }
        }
        Self.table(Self.header, rows, styles: styles, numeric: Self.counts, selected: min(state.jobSelection, jobs.count - 1), in: inner, on: canvas)
    }

    private func renderItems(_ state: ConsoleState, _ summary: JobSummary, _ items: [JobItemRecord], in r: Rect, on canvas: Canvas) {
        let inner = r.inner
        let job = summary.job
        Box.draw(canvas, r, title: "Job \(job.id.prefix(8)) (\(job.status.rawValue), \(summary.counts.done)/\(job.total) done)  Esc: jobs",
                 focused: state.focus == .log, ascii: state.ascii)
        guard inner.height > 0 else { return }
        guard !items.isEmpty else {
            canvas.put(inner.x, inner.y, "reading the items...", style: .dim, maxWidth: inner.width)
            return
        }
        let placements = JobResults(job: job, items: items).placementByIndex
        let rows = items.map { Self.itemCells($0, placements[$0.index]) }
        let styles: [Style] = items.map { $0.status == .failed ? .bad : $0.status == .pending ? .dim : .normal }
        Self.table(Self.itemHeader, rows, styles: styles, numeric: Self.itemCounts, selected: min(state.itemSelection, items.count - 1),
                   in: inner, on: canvas)
    }

    /// A header and rows in padded columns, the selected row reversed and kept on screen.
    static func table(_ header: [String], _ rows: [[String]], styles: [Style], numeric: Set<Int>, selected: Int, in inner: Rect, on canvas: Canvas) {
        let widths = header.indices.map { i in ([header] + rows).map { TextWidth.of($0[i]) }.max() ?? 0 }
        func line(_ cells: [String]) -> String {
            cells.enumerated().map { i, cell in
                numeric.contains(i) ? String(repeating: " ", count: max(0, widths[i] - TextWidth.of(cell))) + cell : TextWidth.pad(cell, to: widths[i])
            }.joined(separator: "  ")
        }
        canvas.put(inner.x, inner.y, line(header), style: .bold, maxWidth: inner.width)
        let visible = max(1, inner.height - 1)
        let first = max(0, selected - visible + 1)
        for (row, i) in (first..<min(rows.count, first + visible)).enumerated() {
            canvas.put(inner.x, inner.y + 1 + row, TextWidth.pad(line(rows[i]), to: inner.width), style: i == selected ? .reverse : styles[i],
                       maxWidth: inner.width)
        }
    }
}
