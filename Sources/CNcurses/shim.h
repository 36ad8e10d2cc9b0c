#ifndef VOICEGATE_CNCURSES_SHIM_H
#define VOICEGATE_CNCURSES_SHIM_H
#define NCURSES_WIDECHAR 1
#include <ncursesw/curses.h>
#endif
