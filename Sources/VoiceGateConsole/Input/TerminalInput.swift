#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Whether the terminal behind the console's input has gone (an SSH connection dropped, a tmux server
/// killed). Key reads then fail at once instead of waiting out their timeout, and a console that kept
/// reading would spin a core; SIGHUP usually ends it first, but not if that signal was missed.
public enum TerminalInput {
    public static func hungUp(fd: Int32 = 0) -> Bool {
        var entry = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
        guard poll(&entry, 1, 0) >= 0 else { return false }
        return entry.revents & Int16(POLLHUP | POLLERR | POLLNVAL) != 0
    }
}
