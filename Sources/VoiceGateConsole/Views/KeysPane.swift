import VoiceGateCore

/// The keys view, in the log's place: each key's requests and characters today against its limits, errors,
/// in flight, waiting, and whether it is being limited right now.
struct KeysPane {
    static let header = ["KEY", "ROLE", "REQ/MIN", "TODAY", "CHARS TODAY", "ERR", "RUN", "WAIT", "STATE"]

    static func cells(_ row: DashboardSnapshot.KeyRow) -> [String] {
        let u = row.usage
        func against(_ value: Int, _ limit: Int?) -> String { limit.map { "\(value)/\($0)" } ?? "\(value)" }
        let state = !u.enabled ? "disabled" : u.limitedNow ? "LIMITED" : "ok"
        return [u.name, u.role.rawValue, against(u.lastMinute, u.limits.requestsPerMinute), "\(u.today.requests)",
                against(u.today.characters, u.limits.charactersPerDay), "\(u.today.errors)", against(u.inFlight, u.limits.concurrent),
                "\(row.waiting)", state]
    }

    static func lines(_ rows: [DashboardSnapshot.KeyRow]) -> [(text: String, limited: Bool)] {
        let table = [header] + rows.map(cells)
        let widths = header.indices.map { i in table.map { $0[i].count }.max() ?? 0 }
        return table.enumerated().map { index, cells in
            let text = cells.enumerated().map { i, cell in
                i == 0 ? TextWidth.pad(cell, to: widths[i]) : String(repeating: " ", count: widths[i] - cell.count) + cell
            }.joined(separator: " ")
            return (text, index > 0 && (rows[index - 1].usage.limitedNow || !rows[index - 1].usage.enabled))
        }
    }

    func render(_ state: ConsoleState, _ rows: [DashboardSnapshot.KeyRow], in r: Rect, on canvas: Canvas) {
        Box.draw(canvas, r, title: "Keys (\(rows.count)) - k or F2: back to the log", focused: state.focus == .log, ascii: state.ascii)
        let inner = r.inner
        guard inner.height > 0 else { return }
        for (i, line) in Self.lines(rows).prefix(inner.height).enumerated() {
            canvas.put(inner.x, inner.y + i, line.text, style: i == 0 ? .bold : line.limited ? .warning : .normal, maxWidth: inner.width)
        }
    }
}
