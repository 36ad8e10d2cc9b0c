import Foundation

/// The last synthesis: progress while it runs, then where it went, its figures and its waveform.
struct ResultPane {
    func render(_ state: ConsoleState, in r: Rect, on canvas: Canvas, now: Date) {
        Box.draw(canvas, r, title: "Last synthesis", focused: false, ascii: state.ascii)
        let inner = r.inner
        let x = inner.x + 1, width = inner.width - 2
        guard inner.height > 0 else { return }
        switch state.run {
        case .idle:
            canvas.put(x, inner.y, "Nothing synthesized yet: fill the form, then Ctrl-R.", style: .dim, maxWidth: width)
        case .running(let started, let position):
            var text = String(format: "Running… %.1f s", now.timeIntervalSince(started))
            if let position { text += "  (queue position \(position))" }
            canvas.put(x, inner.y, text + "  Esc cancels", style: .warning, maxWidth: width)
        case .cancelled:
            canvas.put(x, inner.y, "Cancelled: no file was written.", style: .warning, maxWidth: width)
        case .failed(let message):
            canvas.put(x, inner.y, "Failed: " + message, style: .bad, maxWidth: width)
            if inner.height > 1, TextWidth.of(message) + 8 > width {
                let rest = String(("Failed: " + message).dropFirst(TextWidth.clip("Failed: " + message, to: width).count))
                canvas.put(x, inner.y + 1, rest, style: .bad, maxWidth: width)
            }
        case .finished(let result):
            canvas.put(x, inner.y, "Saved " + result.path, style: .good, maxWidth: width)
            let figures = String(format: "%.2f s  %d Hz  TTFB %.0f ms  total %.0f ms  RTF %.2f",
                                 result.duration, result.sampleRate, result.timeToFirstByte * 1000, result.total * 1000,
                                 result.realTimeFactor)
            if inner.height > 1 { canvas.put(x, inner.y + 1, figures, style: .normal, maxWidth: width) }
            let plot = Waveform.rows(result.peaks, width: width, height: min(8, max(0, inner.height - 2)), ascii: state.ascii)
            for (i, line) in plot.enumerated() {
                canvas.put(x, inner.y + 2 + i, line, style: .accent)
            }
        }
    }
}
