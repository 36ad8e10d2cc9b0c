/// `?` / F1: every key, in a box over the screen.
struct HelpOverlay {
    /// At most 72 columns each (the box's inside at the 80-column minimum), so that nothing is cut.
    static let lines = [
        "Everywhere",
        "  ? or F1      this help (Esc closes it)",
        "  q, F10, ^C   quit after in-flight requests (in a text field q is text)",
        "  Tab/S-Tab    move focus: log, form fields, Synthesize",
        "  Esc          cancel a synthesis, close, back to the log; never quits",
        "  Ctrl-L       redraw the screen",
        "Request log",
        "  Up/Down PgUp/PgDn   scroll back;  Home oldest;  End follow new",
        "  Enter        all about the selected (bottom) request; Esc closes it",
        "  /            filter (Enter keeps it, Esc clears it)",
        "  k or F2      keys: each key's use today against its limits, in flight",
        "  w F3 j F4 g F5  workers (d, r), jobs (Enter items, c, r), gateways",
        "Form",
        "  Left/Right   pick language, voice, format; step speed, temperature",
        "  Left/Right   in a text field: move the cursor; Del deletes at it",
        "  Home/End     start or end of a text field (Ctrl-A/Ctrl-E too)",
        "  Tab          on Reference: complete the file path",
        "  Enter        new line in Text; next field; runs on Synthesize",
        "  Ctrl-R       synthesize, whatever has focus",
        "  Ctrl-U       clear the field",
    ]

    func render(_ state: ConsoleState, on canvas: Canvas) {
        let width = min(canvas.width - 4, 80)
        let height = min(canvas.height - 2, Self.lines.count + 2)
        let r = Rect(x: (canvas.width - width) / 2, y: (canvas.height - height) / 2, width: width, height: height)
        for row in r.y..<(r.y + r.height) { canvas.put(r.x, row, String(repeating: " ", count: r.width)) }
        Box.draw(canvas, r, title: "Keys", focused: true, ascii: state.ascii)
        for (i, line) in Self.lines.prefix(r.height - 2).enumerated() {
            canvas.put(r.x + 2, r.y + 1 + i, line, style: line.hasPrefix(" ") ? .normal : .bold, maxWidth: r.width - 4)
        }
    }
}
