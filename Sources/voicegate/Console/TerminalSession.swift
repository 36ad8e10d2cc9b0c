import CNcurses
import Foundation

/// Owns curses mode: enters it with the settings operators expect over SSH and always leaves it.
/// Used by the UI thread only, and by the launcher after that thread has ended.
final class TerminalSession: @unchecked Sendable {
    private var screen: OpaquePointer?
    private(set) var colors = false

    /// nil with a reason when this terminal cannot show the console.
    static func unsuitableReason() -> String? {
        guard isatty(0) == 1, isatty(1) == 1 else {
            return "not a terminal (stdin or stdout is redirected): run `voicegate --server` for the headless gateway"
        }
        let term = ProcessInfo.processInfo.environment["TERM"] ?? ""
        if term.isEmpty || term == "dumb" {
            return "TERM=\(term.isEmpty ? "(unset)" : term) cannot show the console: run `voicegate --server` for the headless gateway"
        }
        return nil
    }

    /// Enters curses mode; nil with a reason when the terminal type is unknown or cannot address the cursor.
    func start() -> String? {
        setlocale(LC_ALL, "")
        guard let screen = newterm(nil, vg_stdout(), vg_stdin()) else {
            return "TERM=\(ProcessInfo.processInfo.environment["TERM"] ?? "") is unknown to ncurses: run `voicegate --server`"
        }
        self.screen = screen
        _ = set_term(screen)
        guard vg_has_cursor_addressing() != 0 else {
            stop()
            return "this terminal cannot address the cursor: run `voicegate --server`"
        }
        vg_install_crash_handlers()
        atexit { endwin() }
        raw() // Ctrl-C arrives as a key, so quitting goes through the graceful path
        noecho()
        nonl()
        keypad(vg_stdscr(), true)
        set_escdelay(25) // Esc answers at once instead of after a second
        wtimeout(vg_stdscr(), 100)
        curs_set(0)
        let noColor = !(ProcessInfo.processInfo.environment["NO_COLOR"] ?? "").isEmpty
        if !noColor && has_colors() {
            start_color()
            use_default_colors() // keep the terminal's own background
            init_pair(1, Int16(COLOR_GREEN), -1)
            init_pair(2, Int16(COLOR_YELLOW), -1)
            init_pair(3, Int16(COLOR_RED), -1)
            init_pair(4, Int16(COLOR_CYAN), -1)
            colors = true
        }
        return nil
    }

    func redrawAll() { _ = clearok(vg_stdscr(), true) }

    /// Follows the terminal's real size. ncurses learns of a resize only from SIGWINCH as it reads a key, and
    /// resizes in quick succession can leave it drawing for a size long gone: asked every tick, it cannot.
    func followTerminalSize() {
        var rows: Int32 = 0, cols: Int32 = 0
        guard vg_window_size(&rows, &cols) != 0, rows != vg_lines() || cols != vg_cols() else { return }
        _ = resizeterm(rows, cols)
        redrawAll()
    }

    func present() {
        wnoutrefresh(vg_stdscr())
        doupdate()
    }

    func stop() {
        guard let screen else { return }
        curs_set(1)
        endwin()
        delscreen(screen)
        self.screen = nil
    }
}
