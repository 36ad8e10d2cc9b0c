import Foundation
import VoiceGateCore

/// The jobs view, over the log and the form: the newest long-form jobs of every gateway on the store, how far each
/// is, how much audio it has made and which gateway runs it.
struct JobsPane {
    static let header = ["JOB", "KEY", "VOICE", "STATUS", "ITEMS", "FAILED", "AUDIO", "RUNNER", "CREATED", "REASON"]
    static let counts: Set<Int> = [4, 5, 6]

    static func cells(_ s: JobSummary, this: String) -> [String] {
        let clock = DateFormatter()
        clock.dateFormat = "MM-dd HH:mm"
        let job = s.job
        let open = JobRecord.Status.open.contains(job.status)
        let runner = open ? (job.runner.map { $0 == this ? "\($0) *" : $0 } ?? "-") : "-"
        return [String(job.id.prefix(8)), job.key, job.voice, job.status.rawValue, "\(s.counts.done)/\(job.total)", "\(s.counts.failed)",
                Self.minutes(s.counts.audioMs), runner, clock.string(from: job.createdAt), job.reason ?? ""]
    }

    /// `12.5 min` of audio made.
    static func minutes(_ ms: Int) -> String { DecimalText.format(Double(ms) / 60000, places: 1) + " min" }

    func render(_ state: ConsoleState, _ jobs: [JobSummary], this: String, in r: Rect, on canvas: Canvas) {
        let inner = r.inner
        let running = jobs.filter { $0.job.status == .running }.count
        Box.draw(canvas, r, title: "Jobs (\(running) running, newest \(jobs.count))  j: log", focused: state.focus == .log, ascii: state.ascii)
        guard inner.height > 0 else { return }
        guard !jobs.isEmpty else {
            canvas.put(inner.x, inner.y, "no jobs yet: POST /api/v1/jobs, or voicegate jobs submit FILE --voice NAME", style: .dim, maxWidth: inner.width)
            return
        }
        let table = [Self.header] + jobs.map { Self.cells($0, this: this) }
        let widths = Self.header.indices.map { i in table.map { TextWidth.of($0[i]) }.max() ?? 0 }
        func line(_ cells: [String]) -> String {
            cells.enumerated().map { i, cell in
                Self.counts.contains(i) ? String(repeating: " ", count: max(0, widths[i] - TextWidth.of(cell))) + cell : TextWidth.pad(cell, to: widths[i])
            }.joined(separator: "  ")
        }
        canvas.put(inner.x, inner.y, line(Self.header), style: .bold, maxWidth: inner.width)
        for (i, s) in jobs.enumerated().prefix(inner.height - 1) {
            let style: Style = switch s.job.status {
            case .failed: .bad
            case .paused, .cancelled: .dim
            default: .normal
            }
            canvas.put(inner.x, inner.y + 1 + i, line(table[i + 1]), style: style, maxWidth: inner.width)
        }
    }
}
