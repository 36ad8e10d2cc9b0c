import VoiceGateCore

/// The keys view, in the log's place: each key's requests and characters today against its limits, errors,
/// in flight, waiting, and whether it is being limited right now.
struct KeysPane {
    /// The state comes second: a narrow pane cuts the end of the line.
    static let header = ["KEY", "STATE", "REQ/MIN", "TODAY", "CHARS TODAY", "ERR", "RUN", "WAIT", "ROLE"]

    static func cells(_ row: DashboardSnapshot.KeyRow) -> [String] {
        let u = row.usage
        func against(_ value: Int, _ limit: Int?) -> String { limit.map { "\(value)/\($0)" } ?? "\(value)" }
        let state = !u.enabled ? "disabled" : u.limitedNow ? "LIMITED" : "ok"
        return [u.name, state, against(u.lastMinute, u.limits.requestsPerMinute), "\(u.today.requests)",
                against(u.today.characters, u.limits.charactersPerDay), "\(u.today.errors)", against(u.inFlight, u.limits.concurrent),
                "\(row.waiting)", u.role.rawValue]
    }

    static func lines(_ rows: [DashboardSnapshot.KeyRow]) -> [(text: String, limited: Bool)] {
        let table = [header] + rows.map(cells)
        let widths = header.indices.map { i in table.map { $0[i].count }.max() ?? 0 }
        return table.enumerated().map { index, cells in
            let text = cells.enumerated().map { i, cell in
                i < 2 ? TextWidth.pad(cell, to: widths[i]) : String(repeating: " ", count: widths[i] - cell.count) + cell
            }.joined(separator: " ")
            return (text, index > 0 && (rows[index - 1].usage.limitedNow || !rows[index - 1].usage.enabled))
        }
    }

    func render(_ state: ConsoleState, _ rows: [DashboardSnapshot.KeyRow], in r: Rect, on canvas: Canvas) {
        let inner = r.inner
        let lines = Self.lines(rows)
        // The header stays; the rows below it scroll (↑↓ on the log's focus).
        let room = max(0, inner.height - 1)
        let first = min(state.keysScroll, max(0, lines.count - 1 - room))
        var title = "Keys (\(rows.count))"
        if lines.count - 1 > room { title += " ↑↓ scroll" }
        Box.draw(canvas, r, title: title + "  k: log", focused: state.focus == .log, ascii: state.ascii)
        guard inner.height > 0 else { return }
        canvas.put(inner.x, inner.y, lines[0].text, style: .bold, maxWidth: inner.width)
        for (i, line) in lines.dropFirst(1 + first).prefix(room).enumerated() {
            canvas.put(inner.x, inner.y + 1 + i, line.text, style: line.limited ? .warning : .normal, maxWidth: inner.width)
        }
    }
}
