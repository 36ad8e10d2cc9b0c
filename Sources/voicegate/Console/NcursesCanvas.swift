import CNcurses
import VoiceGateConsole

/// The real terminal as a `Canvas`. Only the UI thread may use it (ncurses is not thread-safe).
final class NcursesCanvas: Canvas {
    let colors: Bool

    init(colors: Bool) {
        self.colors = colors
    }

    var width: Int { Int(vg_cols()) }
    var height: Int { Int(vg_lines()) }

    /// Erase, not clear: ncurses then sends only the cells that changed (no flicker over SSH).
    func clear() { werase(vg_stdscr()) }

    func put(_ x: Int, _ y: Int, _ text: String, style: Style, maxWidth: Int?) {
        guard y >= 0, y < height, x >= 0, x < width else { return }
        var room = width - x
        if let maxWidth { room = min(room, maxWidth) }
        guard room > 0 else { return }
        var clipped = TextWidth.clip(text, to: room)
        // Writing the bottom-right cell scrolls some terminals: leave it empty.
        if y == height - 1, x + TextWidth.of(clipped) >= width, !clipped.isEmpty { clipped.removeLast() }
        let attributes = attributes(for: style)
        wattr_on(vg_stdscr(), attributes, nil)
        var wide = Array(clipped.unicodeScalars.map { wchar_t(bitPattern: $0.value) }) + [0]
        _ = mvwaddwstr(vg_stdscr(), Int32(y), Int32(x), &wide)
        wattr_off(vg_stdscr(), attributes, nil)
    }

    func attributes(for style: Style) -> attr_t {
        switch style {
        case .normal: return 0
        case .bold: return vg_a_bold()
        case .dim: return vg_a_dim()
        case .reverse: return vg_a_reverse()
        case .good: return colors ? vg_color_pair(1) | vg_a_bold() : vg_a_bold()
        case .warning: return colors ? vg_color_pair(2) | vg_a_bold() : vg_a_bold()
        case .bad: return colors ? vg_color_pair(3) | vg_a_bold() : vg_a_bold() | vg_a_underline()
        case .accent: return colors ? vg_color_pair(4) : 0
        case .focus: return colors ? vg_color_pair(4) | vg_a_bold() : vg_a_bold() | vg_a_underline()
        }
    }
}
