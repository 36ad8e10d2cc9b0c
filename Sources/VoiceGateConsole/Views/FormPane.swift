/// The test-synthesis form: one row per field, the focused one highlighted, then the Synthesize button.
struct FormPane {
    static let labelWidth = 13

    func render(_ state: ConsoleState, in r: Rect, on canvas: Canvas) {
        let inForm: Bool
        switch state.focus {
        case .log: inForm = false
        default: inForm = true
        }
        Box.draw(canvas, r, title: "Test synthesis", focused: inForm, ascii: state.ascii)
        let inner = r.inner
        let valueWidth = max(4, inner.width - Self.labelWidth - 2)
        var y = inner.y
        // Fields that do not all fit (the stacked layout) scroll so that the focused one is shown.
        let rows = max(1, inner.height - 1)
        let focusedIndex = FormField.allCases.firstIndex { state.focus == .field($0) } ?? 0
        let first = max(0, min(focusedIndex - rows + 1, FormField.allCases.count - rows))
        for field in FormField.allCases.dropFirst(first) where y < inner.y + inner.height - 1 {
            let focused = state.focus == .field(field)
            canvas.put(inner.x + 1, y, field.label, style: focused ? .bold : .dim)
            let shown = Self.display(field, state.form, focused: focused, cursor: state.cursor, width: valueWidth)
            canvas.put(inner.x + 1 + Self.labelWidth, y, TextWidth.pad(shown, to: valueWidth), style: focused ? .focus : .normal)
            y += 1
            if field == .reference, focused, !state.completions.isEmpty, y < inner.y + inner.height - 1 {
                let list = state.completions.prefix(8).joined(separator: "  ")
                canvas.put(inner.x + 1 + Self.labelWidth, y, list, style: .dim, maxWidth: valueWidth)
                y += 1
            }
        }
        let button = state.isRunning ? "[ Running… ]" : "[ Synthesize ]"
        canvas.put(inner.x + 1 + Self.labelWidth, inner.y + inner.height - 1, button,
                   style: state.focus == .synthesize ? .focus : .bold)
        canvas.put(inner.x + 1 + Self.labelWidth + TextWidth.of(button) + 2, inner.y + inner.height - 1, "Ctrl-R",
                   style: .dim, maxWidth: max(0, valueWidth - TextWidth.of(button) - 2))
    }

    /// A field's value on one row: multi-line text shown with ⏎, the cursor kept in view while typing.
    static func display(_ field: FormField, _ form: SynthesisForm, focused: Bool, cursor: Int? = nil, width: Int) -> String {
        switch field {
        case .language:
            return "◀ \(form.language) ▶"
        case .voice:
            return form.voices.isEmpty && form.voice == nil ? "(no saved voices: the Reference file)" : "◀ \(form.value(.voice)) ▶"
        case .format:
            return "◀ \(form.format.rawValue) ▶"
        case .reference where form.voice != nil && !focused:
            return "(not used: voice \(form.voice!))"
        case .output where form.output.isEmpty && !focused:
            return "(new timestamped file)"
        case .promptText where form.promptText.isEmpty && !focused:
            return form.voice == nil ? "(optional: what the reference says)" : "(the voice's own transcript)"
        default:
            let value = Array(form.value(field).replacingOccurrences(of: "\n", with: "⏎"))
            guard focused else { return TextWidth.clip(String(value), to: width) }
            let at = min(cursor ?? value.count, value.count)
            let before = String(value[..<at]) + "▏", after = String(value[at...])
            // Up to the cursor, and as much after it as fits (at least half the row when the text is long).
            let room = max(width / 2, width - TextWidth.of(after))
            let shown = TextWidth.tail(before, fitting: room)
            return shown + TextWidth.clip(after, to: width - TextWidth.of(shown))
        }
    }
}
