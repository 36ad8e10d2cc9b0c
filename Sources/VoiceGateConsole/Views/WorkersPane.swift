import Foundation
import VoiceGateCore

/// The workers view, over the log and the form (its columns need the width): each upstream server's state, done
/// and failed counts, switches, loaded weights and current request; the selected one's details (why it is down,
/// since when) on the last line.
struct WorkersPane {
    static let header = ["WORKER", "STATE", "DONE", "FAIL", "SW", "WEIGHTS", "NOW"]
    /// Text columns first are padded; the counts are right-aligned.
    static let counts = 2...4

    static func cells(_ w: Worker.Snapshot, now: Date) -> [String] {
        let current = w.current.first.map { c in
            "\(c.key)\(c.voice.map { " \($0)" } ?? "") \(DecimalText.format(now.timeIntervalSince(c.started), places: 1))s"
                + (w.current.count > 1 ? " +\(w.current.count - 1)" : "")
        } ?? "-"
        return [w.name, shortSummary(w), "\(w.done)", "\(w.failed)", "\(w.switches)", w.loaded?.summary ?? "-", current]
    }

    /// `DOWN (refused)`: the table keeps the reason short; the detail line has it whole.
    static func shortSummary(_ w: Worker.Snapshot) -> String {
        guard case .down(let reason) = w.health, !w.draining else { return w.summary }
        let short = reason.replacingOccurrences(of: "connection refused", with: "refused")
        return "DOWN (\(short.count > 14 ? String(short.prefix(13)) + "…" : short))"
    }

    /// The selected worker in words: where it is, and why it is down or what it is doing.
    static func detail(_ w: Worker.Snapshot, holders: [String] = []) -> String {
        let clock = DateFormatter()
        clock.dateFormat = "HH:mm:ss"
        var text = w.name + ": "
        if case .down(let reason) = w.health {
            text += "down" + (w.downSince.map { " since \(clock.string(from: $0))" } ?? "") + ": \(reason)"
        } else if w.draining {
            text += "draining, takes nothing new (r resumes)"
        } else if let checked = w.lastChecked {
            text += "probed \(clock.string(from: checked)), busy \(DecimalText.format(w.busySeconds, places: 1)) s in all"
        }
        if !holders.isEmpty { text += " · running for \(holders.joined(separator: ", "))" }
        text += " · \(w.url)"
        if !w.tags.isEmpty { text += " [\(w.tags.joined(separator: ", "))]" }
        return text
    }

    func render(_ state: ConsoleState, _ workers: [Worker.Snapshot], holders: [String: [String]] = [:], in r: Rect, on canvas: Canvas, now: Date) {
        let inner = r.inner
        Box.draw(canvas, r, title: "Workers (\(workers.count))  w: log", focused: state.focus == .log, ascii: state.ascii)
        guard inner.height > 0 else { return }
        let table = [Self.header] + workers.map { Self.cells($0, now: now) }
        let widths = Self.header.indices.map { i in table.map { TextWidth.of($0[i]) }.max() ?? 0 }
        func line(_ cells: [String]) -> String {
            cells.enumerated().map { i, cell in
                Self.counts.contains(i) ? String(repeating: " ", count: widths[i] - cell.count) + cell : TextWidth.pad(cell, to: widths[i])
            }.joined(separator: " ")
        }
        // Header, rows, and the detail line last; short of room the header goes first, then rows scroll.
        let showHeader = inner.height >= workers.count + 2
        if showHeader { canvas.put(inner.x, inner.y, line(Self.header), style: .bold, maxWidth: inner.width) }
        let top = inner.y + (showHeader ? 1 : 0)
        let selected = min(state.workerSelection, max(0, workers.count - 1))
        let room = max(1, inner.height - (showHeader ? 1 : 0) - 1)
        let first = max(0, selected - room + 1)
        for (i, w) in workers.enumerated().dropFirst(first).prefix(room) {
            let style: Style
            if i == selected && state.focus == .log { style = .reverse }
            else if case .down = w.health { style = .bad }
            else if w.draining { style = .warning }
            else { style = .normal }
            canvas.put(inner.x, top + i - first, TextWidth.pad(line(table[i + 1]), to: inner.width), style: style, maxWidth: inner.width)
        }
        if inner.height >= 2, workers.indices.contains(selected) {
            canvas.put(inner.x, inner.y + inner.height - 1, Self.detail(workers[selected], holders: holders[workers[selected].name] ?? []),
                       style: .dim, maxWidth: inner.width)
        }
    }
}
