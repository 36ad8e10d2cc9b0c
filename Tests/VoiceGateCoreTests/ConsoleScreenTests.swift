import Foundation
import Testing
@testable import VoiceGateConsole
@testable import VoiceGateCore

@Suite("Console layout and keys on an in-memory screen")
struct ConsoleScreenTests {
    static func snapshot(events: [RequestEvent] = [], upstream: HealthMonitor.UpstreamState = .up(latency: 0.018)) -> DashboardSnapshot {
        DashboardSnapshot(title: "VoiceGate 0.1.0", listen: "127.0.0.1:8000", engineLine: "upstream: http://gpu:9880 (gpt-sovits)",
                          upstream: upstream, uptime: 3725, figures: .init(requests: 12, errors: 1, inFlight: 1, p50: 0.12, p95: 0.9),
                          queued: 2, events: events)
    }

    static func event(_ i: Int, status: Int = 200, client: String = "10.0.0.7", code: String? = nil) -> RequestEvent {
        RequestEvent(time: Date(timeIntervalSince1970: 1_700_000_000 + Double(i)), id: String(format: "%08x%08x", i, i), client: client,
                     method: "POST", path: "/api/v1/voice/synthesize", status: status, latency: 0.25, bytes: 64000,
                     errorCode: code, message: code.map { "because \($0)" })
    }

    static func state() -> ConsoleState { ConsoleState(form: SynthesisForm(reference: "/tmp/sample-voice.wav")) }

    @Test(arguments: [(80, 24), (120, 40), (200, 50)])
    func headerShowsHealthUptimeAndFigures(width: Int, height: Int) throws {
        let canvas = MemoryCanvas(width: width, height: height)
        let layout = try #require(ConsoleRenderer().render(Self.state(), Self.snapshot(), on: canvas))
        #expect(layout.stacked == (width < 120))
        #expect(canvas.contains("VoiceGate 0.1.0"))
        #expect(canvas.contains("UP 18 ms"))
        #expect(canvas.style(of: "UP 18 ms") == .good)
        #expect(canvas.contains("uptime 01:02:05"))
        #expect(canvas.contains("requests 12"))
        #expect(canvas.contains("queued 2"))
        #expect(canvas.contains("p95 900 ms"))
        #expect(canvas.contains("upstream: http://gpu:9880"))
        #expect(canvas.contains("Synthesize"))
        #expect(canvas.row(height - 1).contains("q: quit"))
    }

    @Test func downIsWrittenInWordsAndColour() {
        let canvas = MemoryCanvas(width: 100, height: 30)
        ConsoleRenderer().render(Self.state(), Self.snapshot(upstream: .down(reason: "connection refused")), on: canvas)
        #expect(canvas.contains("DOWN (connection refused)"))
        #expect(canvas.style(of: "DOWN") == .bad)
    }

    @Test(arguments: [(79, 24), (80, 23), (40, 8)])
    func tooSmallSaysSo(width: Int, height: Int) {
        let canvas = MemoryCanvas(width: width, height: height)
        #expect(ConsoleRenderer().render(Self.state(), Self.snapshot(), on: canvas) == nil)
        #expect(canvas.text.contains("terminal too small: \(width)x\(height), need 80x24") || width < 45)
        #expect(canvas.contains("q"))
    }

    /// Time, status, method and route, duration and key lead; at 120x40 (the log beside the form) the route shows.
    @Test func logLinesLeadWithStatusMethodAndRouteAt80And120Columns() throws {
        var keyed = Self.event(7)
        keyed.key = "open-webui"
        let events = [keyed, Self.event(8, client: "console")]
        for (width, height) in [(80, 24), (120, 40)] {
            let canvas = MemoryCanvas(width: width, height: height)
            let layout = try #require(ConsoleRenderer().render(Self.state(), Self.snapshot(events: events), on: canvas))
            let rows = (layout.log.y..<(layout.log.y + layout.log.height)).map { canvas.row($0) }
            // Beside the form at 120 columns the pane is 58 wide: the route and duration show, the key begins.
            let first = try #require(rows.first { $0.contains(" 200 POST /api/v1/voice/synthesize  250ms open-web") }, "\(canvas.text)")
            if width == 80 { #expect(first.contains("250ms open-webui 00000007")) }
        }
    }

    /// Enter on the log opens all that is known about the selected (bottom) request; Esc closes it.
    @Test func enterOpensTheSelectedRequestsDetailsAndEscClosesThem() throws {
        var failed = Self.event(9, status: 502, code: "upstream_error")
        failed.key = "open-webui"
        var facts = SynthesisFacts(engine: "gpt-sovits")
        facts.worker = "gpu2"
        facts.queueWait = 0.0123
        facts.timeToFirstByte = 0.456
        facts.audioSeconds = 2.5
        facts.textLength = 42
        failed.synthesis = facts
        let snapshot = Self.snapshot(events: [Self.event(8), failed])
        var state = Self.state()
        var handler = KeyHandler()
        handler.selectedRequest = ConsoleRendererSupport.selectedRequest(snapshot, state, height: 10)
        #expect(handler.selectedRequest?.id == failed.id)
        _ = handler.handle(.enter, &state)
        let canvas = MemoryCanvas(width: 80, height: 24)
        ConsoleRenderer().render(state, snapshot, on: canvas)
        for text in ["client", "10.0.0.7", "open-webui", failed.id, "gpu2", "12.3 ms", "456.0 ms", "2.50 s", "upstream_error: because upstream_error",
                     "62.5KB", "42 characters"] {
            #expect(canvas.contains(text), "the detail view shows \(text)")
        }
        _ = handler.handle(.escape, &state)
        #expect(state.detail == nil)
    }

    /// At 80x24 an error's reason line is never shown without its request's line.
    @Test func aRequestsLinesStayTogether() {
        var events: [RequestEvent] = []
        for i in 1...30 { events.append(Self.event(i, status: i % 3 == 0 ? 502 : 200, code: i % 3 == 0 ? "upstream_error" : nil)) }
        for i in events.indices { events[i].sequence = i + 1 }
        let lines = LogPane.lines(events, filter: "")
        for scroll in 0..<12 {
            for height in [5, 6, 7] {
                let visible = LogPane.visible(lines, scroll: scroll, height: height)
                #expect(visible.first?.isContinuation == false, "scroll \(scroll), height \(height)")
            }
        }
    }

    @Test func everyFooterFitsEightyColumnsWithTheHelpKey() {
        for focus in [Focus.log, .synthesize] + FormField.allCases.map({ Focus.field($0) }) {
            var state = Self.state()
            state.focus = focus
            let canvas = MemoryCanvas(width: 80, height: 24)
            ConsoleRenderer().render(state, Self.snapshot(), on: canvas)
            let footer = canvas.row(23)
            #expect(footer.contains("?: help") || footer.contains("F1: help"), "\(focus): \(footer)")
            state.run = .running(started: Date(), queuePosition: nil)
            ConsoleRenderer().render(state, Self.snapshot(), on: canvas)
            #expect(canvas.row(23).hasPrefix(" Esc: cancel synthesis "))
        }
    }

    @Test func anInfoNoticeLeavesTheKeysAWarningMayCoverTheirTail() throws {
        for (notice, keysKept) in [("info: listening on http://127.0.0.1:8000", true),
                                   ("warning: upstream http://gpu:9880 is DOWN (connection refused)", false)] {
            var snapshot = Self.snapshot()
            snapshot.notice = notice
            // Wide enough for the log focus's keys (79 columns) and 20 columns of the notice.
            let canvas = MemoryCanvas(width: 104, height: 30)
            ConsoleRenderer().render(Self.state(), snapshot, on: canvas)
            let footer = canvas.row(29)
            #expect(footer.contains("q: quit") == keysKept)
            #expect(footer.contains(notice.prefix(20)))
        }
    }

    @Test func logFollowsNewestAtTheBottomAndHighlightsErrors() throws {
        let events = (0..<200).map { Self.event($0, status: $0 == 199 ? 502 : 200, code: $0 == 199 ? "upstream_error" : nil) }
        let canvas = MemoryCanvas(width: 200, height: 40)
        let layout = try #require(ConsoleRenderer().render(Self.state(), Self.snapshot(events: events), on: canvas))
        let lastRow = canvas.row(layout.log.y + layout.log.height - 2)
        let previousRow = canvas.row(layout.log.y + layout.log.height - 3)
        #expect(previousRow.contains(" 502 "))
        #expect(previousRow.contains(String(format: "%08x", 199)))
        #expect(lastRow.contains("↳ upstream_error: because upstream_error"))
        #expect(canvas.style(of: "upstream_error:") == .bad)
        #expect(canvas.contains("Request log (200)"))
    }

    @Test func scrollingAndFilteringTheLog() throws {
        let events = (0..<100).map { Self.event($0, client: $0 == 42 ? "console" : "10.0.0.7") }
        var state = Self.state()
        var keys = KeyHandler()
        keys.logPageSize = 20
        keys.logLineCount = 100
        _ = keys.handle(.pageUp, &state)
        #expect(state.logScroll == 20 && !state.isFollowing)
        _ = keys.handle(.home, &state)
        #expect(state.logScroll == 80)
        _ = keys.handle(.end, &state)
        #expect(state.isFollowing)
        for key: Key in [.character("/"), .character("c"), .character("o"), .character("n"), .enter] { _ = keys.handle(key, &state) }
        #expect(state.filter == "con" && !state.editingFilter)
        let canvas = MemoryCanvas(width: 120, height: 30)
        ConsoleRenderer().render(state, Self.snapshot(events: events), on: canvas)
        #expect(canvas.contains("Request log (1) filter: /con"))
        // The request from the console, matched by its client (which the detail view shows), alone on screen.
        #expect(canvas.text.components(separatedBy: "POST /api/v1/voice/synthesize").count == 2)
        _ = keys.handle(.escape, &state)
        #expect(state.filter.isEmpty)
    }

    @Test func logLineCountCoversTheWholeHistoryFromATail() {
        // The run loop copies only the visible tail; scrolling is still bounded by the whole history.
        let tail = (0..<10).map { Self.event($0, status: $0 == 9 ? 502 : 200, code: $0 == 9 ? "upstream_error" : nil) }
        var snapshot = Self.snapshot(events: tail)
        snapshot.totalEvents = 5000
        snapshot.keptErrors = 3
        #expect(ConsoleRendererSupport.lineCount(snapshot, filter: "") == 5003)
        #expect(ConsoleRendererSupport.lineCount(snapshot, filter: "upstream_error") == 2)
        #expect(Self.snapshot(events: tail).keptErrors == 1)
    }

    @Test func tabCyclesFocusAndQIsTextInTextFields() {
        var state = Self.state()
        let keys = KeyHandler()
        #expect(keys.handle(.tab, &state) == .none)
        #expect(state.focus == .field(.text))
        state.form.text = ""
        #expect(keys.handle(.character("q"), &state) == .none)
        #expect(state.form.text == "q")
        #expect(keys.handle(.character("?"), &state) == .none)
        #expect(state.form.text == "q?" && !state.showHelp)
        _ = keys.handle(.tab, &state)
        #expect(state.focus == .field(.language))
        _ = keys.handle(.right, &state)
        #expect(state.form.language == "auto_yue")
        #expect(keys.handle(.character("q"), &state) == .quit)
        for _ in 0..<(FormField.allCases.count - 1) { _ = keys.handle(.tab, &state) }
        #expect(state.focus == .synthesize)
        #expect(keys.handle(.enter, &state) == .synthesize)
        _ = keys.handle(.tab, &state)
        #expect(state.focus == .log)
        _ = keys.handle(.backTab, &state)
        #expect(state.focus == .synthesize)
    }

    @Test func textFieldsEditAtTheCursor() {
        var state = Self.state()
        let keys = KeyHandler()
        _ = keys.handle(.tab, &state)
        state.form.text = "Hello world"
        for _ in 0..<5 { _ = keys.handle(.left, &state) }
        for c in "big " { _ = keys.handle(.character(c), &state) }
        #expect(state.form.text == "Hello big world")
        _ = keys.handle(.backspace, &state)
        _ = keys.handle(.delete, &state)
        #expect(state.form.text == "Hello bigorld")
        _ = keys.handle(.home, &state)
        _ = keys.handle(.enter, &state)
        #expect(state.form.text == "\nHello bigorld" && state.focus == .field(.text))
        _ = keys.handle(.control("e"), &state)
        _ = keys.handle(.character("!"), &state)
        #expect(state.form.text == "\nHello bigorld!")

        // The screen shows the cursor where typing goes, CJK included.
        state.form.text = "你好世界"
        state.cursor = 2
        let canvas = MemoryCanvas(width: 80, height: 24)
        ConsoleRenderer().render(state, Self.snapshot(), on: canvas)
        #expect(canvas.contains("你好▏世界"))
        // A cursor early in a long text stays in view.
        state.form.text = String(repeating: "a", count: 300) + "END"
        state.cursor = 3
        ConsoleRenderer().render(state, Self.snapshot(), on: canvas)
        #expect(canvas.contains("aaa▏aaa") && !canvas.contains("END"))

        // Leaving the field puts the cursor back at the end; in speed, Left/Right still step the value.
        _ = keys.handle(.tab, &state)
        #expect(state.cursor == nil)
        _ = keys.handle(.tab, &state)
        _ = keys.handle(.right, &state)
        #expect(state.form.speed == "1.1")
    }

    @Test func escapeNeverQuitsAndCtrlCAlwaysDoes() {
        var state = Self.state()
        let keys = KeyHandler()
        state.focus = .field(.speed)
        #expect(keys.handle(.escape, &state) == .none)
        #expect(state.focus == .log)
        #expect(keys.handle(.escape, &state) == .none)
        state.run = .running(started: Date(), queuePosition: 1)
        state.focus = .field(.text)
        #expect(keys.handle(.escape, &state) == .cancel)
        #expect(keys.handle(.control("c"), &state) == .quit)
        #expect(keys.handle(.function(10), &state) == .quit)
        #expect(keys.handle(.control("l"), &state) == .redraw)
    }

    @Test func numbersStepWithinTheAPIRanges() {
        var state = Self.state()
        let keys = KeyHandler()
        state.focus = .field(.speed)
        for _ in 0..<20 { _ = keys.handle(.right, &state) }
        #expect(state.form.speed == "2.0")
        state.focus = .field(.temperature)
        for _ in 0..<30 { _ = keys.handle(.left, &state) }
        #expect(state.form.temperature == "0.1")
        state.form.speed = "9"
        #expect(throws: GatewayError.self) { try state.form.validated() }
        #expect(keys.handle(.control("r"), &state) == .synthesize)
    }

    @Test func helpOverlayListsEveryKey() {
        var state = Self.state()
        let keys = KeyHandler()
        _ = keys.handle(.character("?"), &state)
        let canvas = MemoryCanvas(width: 100, height: 30)
        ConsoleRenderer().render(state, Self.snapshot(), on: canvas)
        for needle in ["Ctrl-R", "Ctrl-L", "Esc", "F10", "PgUp", "filter", "Tab"] { #expect(canvas.contains(needle)) }
        // At the 80x24 minimum every line is there whole.
        let small = MemoryCanvas(width: 80, height: 24)
        ConsoleRenderer().render(state, Self.snapshot(), on: small)
        for line in HelpOverlay.lines { #expect(small.contains(line.trimmingCharacters(in: .whitespaces)), "\(line)") }
        _ = keys.handle(.escape, &state)
        #expect(!state.showHelp)
    }

    @Test func wideTextStaysAligned() throws {
        var state = Self.state()
        state.form.text = "你好世界，这是一个测试。"
        state.focus = .field(.text)
        let canvas = MemoryCanvas(width: 80, height: 24)
        let layout = try #require(ConsoleRenderer().render(state, Self.snapshot(), on: canvas))
        let row = (0..<24).first { canvas.row($0).contains("你好世界") }!
        // The form's right border is still in its column: wide characters took two cells each.
        #expect(canvas.cells[row][layout.form.x + layout.form.width - 1].text == "│")
        #expect(TextWidth.of("你好") == 4 && TextWidth.of("é") == 1)
    }

    @Test func resultShowsFiguresAndWaveform() {
        var state = Self.state()
        state.run = .finished(ConsoleResult(path: "/tmp/out.wav", duration: 2, sampleRate: 32000, timeToFirstByte: 0.12, total: 0.5,
                                            peaks: (0..<100).map { Float($0 % 10) / 10 }))
        let canvas = MemoryCanvas(width: 120, height: 30)
        ConsoleRenderer().render(state, Self.snapshot(), on: canvas)
        #expect(canvas.contains("Saved /tmp/out.wav"))
        #expect(canvas.contains("2.00 s  32000 Hz  TTFB 120 ms  total 500 ms  RTF 0.25"))
        #expect(canvas.contains("█"))
        state.ascii = true
        ConsoleRenderer().render(state, Self.snapshot(), on: canvas)
        #expect(!canvas.contains("█") && !canvas.contains("┌") && canvas.contains("#"))
    }

    @Test func pathCompletionCompletesTheCommonPrefix() throws {
        let dir = NSTemporaryDirectory() + "vg-complete-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: dir + "/voices", withIntermediateDirectories: true)
        _ = FileManager.default.createFile(atPath: dir + "/voices/alice-1.wav", contents: Data())
        _ = FileManager.default.createFile(atPath: dir + "/voices/alice-2.wav", contents: Data())
        #expect(PathCompletion.complete(dir + "/vo").completed == dir + "/voices/")
        let (completed, matches) = PathCompletion.complete(dir + "/voices/al")
        #expect(completed == dir + "/voices/alice-")
        #expect(matches == ["alice-1.wav", "alice-2.wav"])
    }
}

@Suite("The console notices a terminal that has gone")
struct TerminalInputTests {
    /// A pipe stands in for the terminal (Swift cannot call the variadic ioctl a pseudo-terminal needs):
    /// poll reports the hang-up of a closed other end the same way.
    @Test func anInputWhoseOtherEndClosedHasHungUp() throws {
        var ends: [Int32] = [0, 0]
        try #require(pipe(&ends) == 0)
        defer { close(ends[0]) }
        #expect(!TerminalInput.hungUp(fd: ends[0]))
        close(ends[1])
        #expect(TerminalInput.hungUp(fd: ends[0]))
    }
}
