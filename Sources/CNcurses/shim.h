#ifndef VOICEGATE_CNCURSES_SHIM_H
#define VOICEGATE_CNCURSES_SHIM_H
// Wide-character ncurses: get_wch and mvwaddwstr exist only with NCURSES_WIDECHAR before the include.
#define NCURSES_WIDECHAR 1
#include <locale.h>
#include <signal.h>
#include <stdio.h>
#include <sys/ioctl.h>
#include <unistd.h>
#include <ncursesw/curses.h>
#include <ncursesw/term.h>

// Swift 6 rejects C globals and cannot import function-like macros: small accessors instead.
static inline WINDOW *vg_stdscr(void) { return stdscr; }
static inline int vg_lines(void) { return LINES; }
static inline int vg_cols(void) { return COLS; }
static inline attr_t vg_a_bold(void) { return A_BOLD; }
static inline attr_t vg_a_dim(void) { return A_DIM; }
static inline attr_t vg_a_reverse(void) { return A_REVERSE; }
static inline attr_t vg_a_underline(void) { return A_UNDERLINE; }
static inline attr_t vg_color_pair(int n) { return COLOR_PAIR(n); }
static inline int vg_key_f(int n) { return KEY_F(n); }
static inline FILE *vg_stdout(void) { return stdout; }
static inline FILE *vg_stdin(void) { return stdin; }

// The terminal's real size (TIOCGWINSZ on the output), 0 when it cannot be read. ioctl is variadic: Swift cannot call it.
static inline int vg_window_size(int *rows, int *cols) {
    struct winsize ws;
    if (ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) != 0 || ws.ws_row == 0 || ws.ws_col == 0) return 0;
    *rows = ws.ws_row;
    *cols = ws.ws_col;
    return 1;
}

// True when the terminal can address the cursor (TERM=dumb cannot).
static inline int vg_has_cursor_addressing(void) {
    char *cup = tigetstr("cup");
    return cup != NULL && cup != (char *)-1;
}

// Crash handler: leave curses mode so the shell is usable, then die with the same signal.
static void vg_crash_handler(int sig) {
    endwin();
    signal(sig, SIG_DFL);
    raise(sig);
}

static inline void vg_install_crash_handlers(void) {
    struct sigaction sa;
    sa.sa_handler = vg_crash_handler;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = SA_RESETHAND;
    sigaction(SIGSEGV, &sa, NULL);
    sigaction(SIGABRT, &sa, NULL);
    sigaction(SIGILL, &sa, NULL);
    sigaction(SIGBUS, &sa, NULL);
    sigaction(SIGFPE, &sa, NULL);
    sigaction(SIGTRAP, &sa, NULL);
}
#endif
