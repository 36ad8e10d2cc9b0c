import Foundation
import VoiceGateCore

/// The request log: newest at the bottom, following unless scrolled back, filterable, errors highlighted.
struct LogPane {
    static let timeFormat: DateFormatter = {
        let f = DateFormatter()
        f.dateFormat = "HH:mm:ss"
        f.locale = Locale(identifier: "en_US_POSIX")
        return f
    }()

    /// Most telling first, so narrow panes clip the least useful part: time, status, latency, bytes,
    /// client, method, path, request id. An error's reason gets a line of its own.
    static func lines(_ e: RequestEvent) -> [String] {
        let latency = e.latency < 10 ? String(format: "%5.0fms", e.latency * 1000) : String(format: "%5.1fs ", e.latency)
        let client = e.client.count > 15 ? String(e.client.prefix(15)) : e.client.padding(toLength: 15, withPad: " ", startingAt: 0)
        let main = "\(timeFormat.string(from: e.time)) \(e.status) \(latency) \(Self.bytes(e.bytes).padding(toLength: 7, withPad: " ", startingAt: 0)) "
            + "\(client) \(e.method) \(e.path) \(e.id.prefix(8))"
        guard let code = e.errorCode else { return [main] }
        return [main, "  ↳ \(code): \(e.message ?? "")"]
    }

    static func bytes(_ n: Int) -> String {
        n < 1024 ? "\(n)B" : n < 1_048_576 ? String(format: "%.1fKB", Double(n) / 1024) : String(format: "%.1fMB", Double(n) / 1_048_576)
    }

    /// The events the filter lets through, as lines (the filter matches anywhere, case-insensitively).
    static func lines(_ events: [RequestEvent], filter: String) -> [(String, Bool)] {
        let matching = filter.isEmpty ? events : events.filter { e in
            lines(e).contains { $0.range(of: filter, options: .caseInsensitive) != nil }
        }
        return matching.flatMap { e in lines(e).map { ($0, e.isError) } }
    }

    func render(_ state: ConsoleState, _ events: [RequestEvent], in r: Rect, on canvas: Canvas) {
        let lines = Self.lines(events, filter: state.filter)
        let shown = state.filter.isEmpty ? events.count : events.filter { e in
            Self.lines(e).contains { $0.range(of: state.filter, options: .caseInsensitive) != nil }
        }.count
        var title = "Request log (\(shown))"
        if !state.filter.isEmpty || state.editingFilter { title += " filter: /\(state.filter)\(state.editingFilter ? "_" : "")" }
        if !state.isFollowing { title += " - scrolled back \(state.logScroll), End follows" }
        Box.draw(canvas, r, title: title, focused: state.focus == .log, ascii: state.ascii)
        let inner = r.inner
        guard inner.height > 0 else { return }
        let end = max(0, lines.count - state.logScroll)
        let visible = lines[max(0, end - inner.height)..<end]
        if visible.isEmpty {
            let hint = events.isEmpty ? "no requests yet - try: curl http://…/health" : "no lines match the filter"
            canvas.put(inner.x + 1, inner.y, hint, style: .dim, maxWidth: inner.width - 1)
        }
        for (i, (text, isError)) in visible.enumerated() {
            canvas.put(inner.x, inner.y + i, text, style: isError ? .bad : .normal, maxWidth: inner.width)
        }
    }
}
