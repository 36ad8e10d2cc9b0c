import Foundation
import VoiceGateCore

/// Draws a whole frame from the state and a snapshot. Pure drawing: testable on a `MemoryCanvas`.
public struct ConsoleRenderer {
    public static let minWidth = 80
    public static let minHeight = 24
    /// From this width the log and the form stand side by side; below it they are stacked.
    public static let wideWidth = 120

    public init() {}

    /// What the layout decided, for the key handler (page size) and tests.
    public struct Layout: Equatable {
        public var stacked: Bool
        public var log: Rect
        public var form: Rect
        public var result: Rect
    }

    @discardableResult
    public func render(_ state: ConsoleState, _ snapshot: DashboardSnapshot, on canvas: Canvas, now: Date = Date()) -> Layout? {
        canvas.clear()
        let w = canvas.width, h = canvas.height
        guard w >= Self.minWidth, h >= Self.minHeight else {
            renderTooSmall(canvas)
            return nil
        }
        renderHeader(snapshot, canvas)
        let body = Rect(x: 0, y: 3, width: w, height: h - 4)
        let layout: Layout
        if w >= Self.wideWidth {
            let right = 60
            let formHeight = min(body.height - 6, 13)
            layout = Layout(stacked: false,
                            log: Rect(x: 0, y: body.y, width: w - right, height: body.height),
                            form: Rect(x: w - right, y: body.y, width: right, height: formHeight),
                            result: Rect(x: w - right, y: body.y + formHeight, width: right, height: body.height - formHeight))
        } else {
            let formHeight = 10
            let resultHeight = 5
            layout = Layout(stacked: true,
                            log: Rect(x: 0, y: body.y, width: w, height: body.height - formHeight - resultHeight),
                            form: Rect(x: 0, y: body.y + body.height - formHeight - resultHeight, width: w, height: formHeight),
                            result: Rect(x: 0, y: body.y + body.height - resultHeight, width: w, height: resultHeight))
        }
        if state.coversForm {
            // Their columns need the width: they cover the form too, which comes back with Tab.
            if state.view == .workers {
                WorkersPane().render(state, snapshot.workers, holders: snapshot.workerHolders, in: body, on: canvas, now: now)
            } else if state.view == .jobs {
                JobsPane().render(state, snapshot.jobs, items: snapshot.openItems, this: snapshot.gatewayName, in: body, on: canvas, now: now)
            } else {
                GatewaysPane().render(state, snapshot.gateways, this: snapshot.gatewayName, in: body, on: canvas, now: now)
            }
        } else {
            if state.view == .keys {
                KeysPane().render(state, snapshot.keys, in: layout.log, on: canvas)
            } else {
                LogPane().render(state, snapshot.events, total: snapshot.totalEvents, in: layout.log, on: canvas)
            }
            FormPane().render(state, in: layout.form, on: canvas)
            ResultPane().render(state, in: layout.result, on: canvas, now: now)
        }
        renderFooter(state, snapshot, canvas)
        if let detail = state.detail { RequestDetailPane().render(detail, ascii: state.ascii, on: canvas) }
        if state.showHelp { HelpOverlay().render(state, on: canvas) }
        return layout
    }

    func renderTooSmall(_ canvas: Canvas) {
        let lines = ["terminal too small: \(canvas.width)x\(canvas.height), need \(Self.minWidth)x\(Self.minHeight)",
                     "enlarge the window, or press q to quit"]
        for (i, line) in lines.enumerated() {
            let y = canvas.height / 2 - 1 + i
            canvas.put(max(0, (canvas.width - TextWidth.of(line)) / 2), y, line, style: i == 0 ? .warning : .normal)
        }
    }

    func renderHeader(_ s: DashboardSnapshot, _ canvas: Canvas) {
        let state = s.upstream.summary
        let stateStyle: Style
        switch s.upstream {
        case .up: stateStyle = .good
        case .busy, .unknown: stateStyle = .warning
        case .down: stateStyle = .bad
        }
        var x = 0
        func part(_ text: String, _ style: Style) {
            canvas.put(x, 0, text, style: style)
            x += TextWidth.of(text)
        }
        part(" \(s.title) ", .reverse)
        part("  http://\(s.listen)  ", .bold)
        part("uptime \(Self.uptime(s.uptime))  ", .normal)
        part(state, stateStyle)
        canvas.put(0, 1, " " + s.engineLine, style: .dim, maxWidth: canvas.width)
        let f = s.figures
        let figures = "requests \(f.requests)  errors \(f.errors)  in flight \(f.inFlight)  queued \(s.queued)  "
            + "p50 \(Self.ms(f.p50))  p95 \(Self.ms(f.p95)) "
        canvas.put(0, 2, " " + figures, style: f.errors > 0 ? .warning : .normal, maxWidth: canvas.width)
    }

    func renderFooter(_ state: ConsoleState, _ s: DashboardSnapshot, _ canvas: Canvas) {
        let hints: String
        if state.showHelp {
            hints = "Esc/?: close help  Ctrl-C: quit"
        } else if state.editingFilter {
            hints = "type to filter  Enter: keep filter  Esc: clear filter"
        } else {
            switch state.focus {
            case .log where state.view == .workers: hints = "↑↓ worker  d: drain  r: resume  w: log  Tab: form  ?: help  q: quit"
            case .log where state.view == .keys: hints = "↑↓ scroll  k: log  w: workers  Tab: form  Ctrl-R: synthesize  ?: help  q: quit"
            case .log where state.view == .gateways: hints = "g: log  k: keys  w: workers  j: jobs  Tab: form  ?: help  q: quit"
            case .log where state.view == .jobs && state.openJob != nil: hints = "↑↓ item  r: redo item  c: cancel job  Esc: jobs  ?: help  q: quit"
            case .log where state.view == .jobs: hints = "↑↓ job  Enter: items  c: cancel  j: log  Tab: form  ?: help  q: quit"
            // Tab is in the help: the notice after these keys needs the room at 80 columns.
            case .log: hints = "/: filter  k: keys  w: workers  j: jobs  g: gateways  ?: help  q: quit"
            case .field(.language): hints = "←→: language  Tab: move  Ctrl-R: synthesize  Esc: back  ?: help  q: quit"
            case .field(.speed), .field(.temperature): hints = "←→ or type: value  Tab: move  Ctrl-R: synthesize  Esc: back  F1: help"
            case .field(.reference): hints = "Ctrl-R: synthesize  Tab: complete path  ←→: cursor  Esc: back  F1: help"
            case .field(.text): hints = "Ctrl-R: synthesize  Enter: newline  ←→: cursor  Tab: move  Esc: back  F1: help"
            case .field: hints = "Ctrl-R: synthesize  ←→: cursor  Tab: move  Esc: back  F1: help  F10: quit"
            case .synthesize: hints = "Enter: synthesize  Tab: move  Esc: back  ?: help  q: quit"
            }
        }
        let y = canvas.height - 1
        // A running synthesis's key comes first: the end of the line is what a narrow terminal cuts.
        let keys = (state.isRunning ? " Esc: cancel synthesis " : "") + " " + hints
        canvas.put(0, y, TextWidth.pad(keys, to: canvas.width), style: .reverse)
        // The gateway's latest log line, at the right: a warning or error may cover the keys' tail (up to half
        // the width); an info line only takes the room the keys leave.
        if let notice = s.notice, !state.showHelp {
            let text = " " + notice + " "
            let routine = ["trace:", "debug:", "info:", "notice:"].contains { notice.hasPrefix($0) }
            let free = canvas.width - TextWidth.of(keys) - 2
            let room = routine ? free : max(free, canvas.width / 2)
            if room >= 16 {
                let width = min(TextWidth.of(text), room)
                canvas.put(canvas.width - width, y, text, style: routine ? .reverse : .warning, maxWidth: width)
            }
        }
    }

    static func uptime(_ seconds: TimeInterval) -> String {
        let s = Int(seconds)
        let days = s / 86400
        let clock = String(format: "%02d:%02d:%02d", (s / 3600) % 24, (s / 60) % 60, s % 60)
        return days > 0 ? "\(days)d \(clock)" : clock
    }

    static func ms(_ seconds: Double?) -> String {
        guard let seconds else { return "-" }
        return seconds < 10 ? String(format: "%.0f ms", seconds * 1000) : String(format: "%.1f s", seconds)
    }
}
