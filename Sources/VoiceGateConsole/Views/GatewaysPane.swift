import Foundation
import VoiceGateCore

/// The gateways view, over the log and the form: every gateway sharing the store, where it listens, since when,
/// how busy; one that has gone quiet (crashed, cut off) is marked so until it is forgotten a day later.
struct GatewaysPane {
    static let header = ["GATEWAY", "ADDRESS", "UP SINCE", "IN FLIGHT", "WAITING", "STATE"]
    static let counts = 3...4

    static func cells(_ g: GatewayPresence, this: String, now: Date) -> [String] {
        let clock = DateFormatter()
        clock.dateFormat = "yyyy-MM-dd HH:mm"
        let state = g.isAlive(now: now) ? "up" : "silent \(Int(now.timeIntervalSince(g.seenAt))) s"
        return [g.name + (g.name == this ? " *" : ""), g.address, clock.string(from: g.startedAt), "\(g.inFlight)", "\(g.waiting)", state]
    }

    func render(_ state: ConsoleState, _ gateways: [GatewayPresence], this: String, in r: Rect, on canvas: Canvas, now: Date) {
        let inner = r.inner
        let alive = gateways.filter { $0.isAlive(now: now) }.count
        Box.draw(canvas, r, title: "Gateways (\(alive) up of \(gateways.count))  g: log", focused: state.focus == .log, ascii: state.ascii)
        guard inner.height > 0 else { return }
        guard !gateways.isEmpty else {
            canvas.put(inner.x, inner.y, "no gateway has announced itself yet (once a second, through the store)", style: .dim, maxWidth: inner.width)
            return
        }
        let table = [Self.header] + gateways.map { Self.cells($0, this: this, now: now) }
        let widths = Self.header.indices.map { i in table.map { TextWidth.of($0[i]) }.max() ?? 0 }
        func line(_ cells: [String]) -> String {
            cells.enumerated().map { i, cell in
                Self.counts.contains(i) ? String(repeating: " ", count: widths[i] - cell.count) + cell : TextWidth.pad(cell, to: widths[i])
            }.joined(separator: "  ")
        }
        canvas.put(inner.x, inner.y, line(Self.header), style: .bold, maxWidth: inner.width)
        for (i, g) in gateways.enumerated().prefix(inner.height - 2) {
            canvas.put(inner.x, inner.y + 1 + i, line(table[i + 1]), style: g.isAlive(now: now) ? .normal : .bad, maxWidth: inner.width)
        }
        canvas.put(inner.x, inner.y + inner.height - 1, "* this gateway; the others share its store and its workers' folder", style: .dim,
                   maxWidth: inner.width)
    }
}
