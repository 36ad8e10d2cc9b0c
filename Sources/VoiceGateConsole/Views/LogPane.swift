import Foundation
import VoiceGateCore

/// The request log: newest at the bottom, following unless scrolled back, filterable, errors highlighted.
struct LogPane {
    /// Local wall-clock time, by arithmetic: a formatter per line would cost more than the drawing.
    static func clock(_ date: Date) -> String {
        let local = Int(date.timeIntervalSince1970) + TimeZone.current.secondsFromGMT(for: date)
        let s = ((local % 86400) + 86400) % 86400
        return String(format: "%02d:%02d:%02d", s / 3600, (s / 60) % 60, s % 60)
    }

    /// Most telling first, so narrow panes clip the least useful part: time, status, latency, bytes, client,
    /// key name, request id, then method and path (the routes are few and differ early). With the client column as wide
    /// as the clients in view, an 80-column terminal shows the whole line and the side-by-side log at 120 still
    /// shows the id a client quotes. An error's reason gets a line of its own.
    static func lines(_ e: RequestEvent, clientWidth: Int = maxClientWidth) -> [String] {
        let latency = e.latency < 10 ? String(format: "%4.0fms", e.latency * 1000) : String(format: "%4.1fs ", e.latency)
        let client = e.client.count > clientWidth ? String(e.client.prefix(clientWidth))
            : e.client.padding(toLength: clientWidth, withPad: " ", startingAt: 0)
        let bytes = Self.bytes(e.bytes)
        let main = "\(clock(e.time)) \(e.status) \(latency) \(bytes + String(repeating: " ", count: max(0, 7 - bytes.count))) "
            + "\(client) \(e.key.map { $0 + " " } ?? "")\(e.id.prefix(8)) \(e.method) \(e.path)"
        guard let code = e.errorCode else { return [main] }
        return [main, "  ↳ \(code): \(e.message ?? "")"]
    }

    /// An IPv4 address at most; longer clients (IPv6) are cut to it.
    static let maxClientWidth = 15

    static func clientWidth(_ events: [RequestEvent]) -> Int {
        min(maxClientWidth, events.lazy.map(\.client.count).max() ?? 0)
    }

    static func bytes(_ n: Int) -> String {
        n < 1024 ? "\(n)B" : n < 1_048_576 ? String(format: "%.1fKB", Double(n) / 1024) : String(format: "%.1fMB", Double(n) / 1_048_576)
    }

    static func matches(_ e: RequestEvent, _ filter: String) -> Bool {
        filter.isEmpty || lines(e).contains { $0.range(of: filter, options: .caseInsensitive) != nil }
    }

    /// The events the filter lets through, as lines (the filter matches anywhere, case-insensitively).
    static func lines(_ events: [RequestEvent], filter: String) -> [(String, Bool)] {
        let shown = events.filter { matches($0, filter) }
        let width = clientWidth(shown)
        return shown.flatMap { e in lines(e, clientWidth: width).map { ($0, e.isError) } }
    }

    /// How many lines the filtered log has. Unfiltered it is counted, not formatted: one line an event and
    /// one more for an error's reason, as `lines(_:)` lays them out; the snapshot may hold only the tail.
    static func lineCount(_ snapshot: DashboardSnapshot, filter: String) -> Int {
        guard filter.isEmpty else { return lines(snapshot.events, filter: filter).count }
        return snapshot.totalEvents + snapshot.keptErrors
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
