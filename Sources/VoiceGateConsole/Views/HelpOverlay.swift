/// `?` / F1: every key, in a box over the screen.
struct HelpOverlay {
    static let lines = [
        "Everywhere",
        "  ? or F1      this help (Esc closes it)",
        "  q or F10     quit (in a text field q is text; F10 and Ctrl-C always quit)",
        "  Ctrl-C       quit; in-flight requests finish first",
        "  Tab/S-Tab    move focus: log, form fields, Synthesize",
        "  Esc          cancel a synthesis, close, or back to the log; never quits",
        "  Ctrl-L       redraw the screen",
        "Request log",
        "  Up/Down PgUp/PgDn   scroll back;  Home oldest;  End follow new lines",
        "  /            filter (Enter keeps it, Esc clears it)",
        "Form",
        "  Left/Right   change language, speed, temperature (or type a number)",
        "  Left/Right Home/End (Ctrl-A/E)  move the cursor in a text field; Del deletes",
        "  Tab          on Reference: complete the file path",
        "  Enter        new line in Text; next field elsewhere; runs on Synthesize",
        "  Ctrl-R       synthesize from anywhere in the form;  Ctrl-U clears a field",
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
