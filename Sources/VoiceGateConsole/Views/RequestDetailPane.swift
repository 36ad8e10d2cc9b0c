import Foundation
import VoiceGateCore

/// Enter on the log: everything known about one request, in a box over the screen (k9s' describe); Esc closes it.
struct RequestDetailPane {
    static func rows(_ e: RequestEvent) -> [(String, String)] {
        var rows: [(String, String)] = [
            ("time", ISO8601DateFormatter().string(from: e.time)),
            ("request", "\(e.method) \(e.path)" + (e.route.map { $0 != e.path ? "  (route \($0))" : "" } ?? "")),
            ("status", "\(e.status)"),
            ("client", e.client),
            ("key", e.key ?? "- (none accepted)"),
            ("request id", e.id),
            ("duration", String(format: "%.1f ms", e.latency * 1000)),
            ("bytes sent", LogPane.bytes(e.bytes)),
        ]
        if let code = e.errorCode { rows.append(("error", "\(code): \(e.message ?? "")")) }
        if let s = e.synthesis {
            func ms(_ seconds: Double?) -> String { seconds.map { String(format: "%.1f ms", $0 * 1000) } ?? "-" }
            rows += [
                ("engine", s.engine + (s.model.map { " (model \($0))" } ?? "")),
                ("worker", s.worker ?? "-"),
                ("voice", s.voice ?? (s.referenceHash.map { "upload " + $0.prefix(12) } ?? "-")),
                ("format", s.format ?? "wav"),
                ("language", s.language ?? "-"),
                ("text", "\(s.textLength) characters" + (s.text.map { ": \($0)" } ?? "")),
                ("queue wait", ms(s.queueWait)),
                ("first byte", ms(s.timeToFirstByte)),
                ("upstream", ms(s.upstreamTime)),
                ("audio", s.audioSeconds.map { String(format: "%.2f s", $0) } ?? "-"),
            ]
        }
        return rows
    }

    func render(_ event: RequestEvent, ascii: Bool, on canvas: Canvas) {
        let rows = Self.rows(event)
        let width = min(canvas.width - 2, 100)
        let height = min(canvas.height - 2, rows.count + 2)
        let r = Rect(x: (canvas.width - width) / 2, y: (canvas.height - height) / 2, width: width, height: height)
        for row in r.y..<(r.y + r.height) { canvas.put(r.x, row, String(repeating: " ", count: r.width)) }
        Box.draw(canvas, r, title: "Request \(event.id) - Esc closes", focused: true, ascii: ascii)
        for (i, (name, value)) in rows.prefix(r.height - 2).enumerated() {
            canvas.put(r.x + 2, r.y + 1 + i, name, style: .bold, maxWidth: 12)
            canvas.put(r.x + 14, r.y + 1 + i, value, style: name == "error" ? .bad : .normal, maxWidth: r.width - 16)
        }
    }
}
