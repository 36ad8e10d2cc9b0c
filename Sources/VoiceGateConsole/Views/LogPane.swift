import Foundation
import VoiceGateCore

/// The request log: newest at the bottom, following unless scrolled back, filterable, errors highlighted. The
/// bottom request is the selected one (reverse video): Enter opens all that is known about it.
struct LogPane {
    /// One screen line: a request's main line, or its error's reason under it.
    struct Line: Equatable {
        let text: String
        let isError: Bool
        /// The reason line under a main line: never shown without it.
        let isContinuation: Bool
        let sequence: Int
    }

    /// Local wall-clock time, by arithmetic: a formatter per line would cost more than the drawing.
    static func clock(_ date: Date) -> String {
        let local = Int(date.timeIntervalSince1970) + TimeZone.current.secondsFromGMT(for: date)
        let s = ((local % 86400) + 86400) % 86400
        return String(format: "%02d:%02d:%02d", s / 3600, (s / 60) % 60, s % 60)
    }

    /// Most telling first, so narrow panes clip the least useful part: time, status, method and route, latency,
    /// key, then the request id a client quotes. The rest (client, bytes, timings) is in the detail view.
    /// An error's reason gets a line of its own.
    static func lines(_ e: RequestEvent) -> [String] {
        let latency = e.latency < 10 ? String(format: "%4.0fms", e.latency * 1000) : String(format: "%4.1fs ", e.latency)
        let main = "\(clock(e.time)) \(e.status) \(e.method) \(e.path) \(latency) \(e.key ?? "-") \(e.id.prefix(8))"
        guard let code = e.errorCode else { return [main] }
        return [main, "  ↳ \(code): \(e.message ?? "")"]
    }

    static func bytes(_ n: Int) -> String {
        n < 1024 ? "\(n)B" : n < 1_048_576 ? String(format: "%.1fKB", Double(n) / 1024) : String(format: "%.1fMB", Double(n) / 1_048_576)
    }

    static func matches(_ e: RequestEvent, _ filter: String) -> Bool {
        filter.isEmpty || (lines(e) + [e.client]).contains { $0.range(of: filter, options: .caseInsensitive) != nil }
    }

    /// The events the filter lets through, as lines (the filter matches anywhere, case-insensitively).
    static func lines(_ events: [RequestEvent], filter: String) -> [Line] {
        events.filter { matches($0, filter) }.flatMap { e in
            lines(e).enumerated().map { Line(text: $1, isError: e.isError, isContinuation: $0 > 0, sequence: e.sequence) }
        }
    }

    /// How many lines the filtered log has. Unfiltered it is counted, not formatted: one line an event and
    /// one more for an error's reason, as `lines(_:)` lays them out; the snapshot may hold only the tail.
    static func lineCount(_ snapshot: DashboardSnapshot, filter: String) -> Int {
        guard filter.isEmpty else { return lines(snapshot.events, filter: filter).count }
        return snapshot.totalEvents + snapshot.keptErrors
    }

    /// The lines a pane of `height` rows shows, `scroll` lines back from the newest: a request's lines stay
    /// together (a reason whose request line is above the pane is left out, not shown alone).
    static func visible(_ lines: [Line], scroll: Int, height: Int) -> ArraySlice<Line> {
        let end = max(0, lines.count - scroll)
        var start = max(0, end - height)
        while start < end, lines[start].isContinuation { start += 1 }
        return lines[start..<end]
    }

    /// The request Enter opens: the last one whose main line is in view.
    static func selected(_ events: [RequestEvent], _ state: ConsoleState, height: Int) -> RequestEvent? {
        let candidates = state.filter.isEmpty ? Array(events.suffix(state.logScroll + height)) : events
        let shown = visible(lines(candidates, filter: state.filter), scroll: state.logScroll, height: height)
        guard let sequence = shown.last(where: { !$0.isContinuation })?.sequence else { return nil }
        return events.last { $0.sequence == sequence }
    }

    func render(_ state: ConsoleState, _ events: [RequestEvent], total: Int, in r: Rect, on canvas: Canvas) {
        // Unfiltered, only the events that can be on screen are formatted (each is one or two lines).
        let candidates = state.filter.isEmpty ? Array(events.suffix(state.logScroll + r.height)) : events
        let lines = Self.lines(candidates, filter: state.filter)
        let shown = state.filter.isEmpty ? total : events.filter { Self.matches($0, state.filter) }.count
        var title = "Request log (\(shown))"
        if !state.filter.isEmpty || state.editingFilter { title += " filter: /\(state.filter)\(state.editingFilter ? "_" : "")" }
        if !state.isFollowing { title += " - scrolled back \(state.logScroll), End follows" }
        Box.draw(canvas, r, title: title, focused: state.focus == .log, ascii: state.ascii)
        let inner = r.inner
        guard inner.height > 0 else { return }
        let visible = Self.visible(lines, scroll: state.logScroll, height: inner.height)
        if visible.isEmpty {
            let hint = events.isEmpty ? "no requests yet - try: curl http://…/health" : "no lines match the filter"
            canvas.put(inner.x + 1, inner.y, hint, style: .dim, maxWidth: inner.width - 1)
        }
        let selected = state.focus == .log ? visible.last(where: { !$0.isContinuation })?.sequence : nil
        for (i, line) in visible.enumerated() {
            let style: Style = line.sequence == selected && !line.isContinuation ? .reverse : line.isError ? .bad : .normal
            canvas.put(inner.x, inner.y + i, line.text, style: style, maxWidth: inner.width)
        }
    }
}
