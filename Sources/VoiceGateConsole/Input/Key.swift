/// A key press, as the console understands it, whatever terminal it came from.
public enum Key: Sendable, Hashable {
    case character(Character)
    case enter, tab, backTab, escape, backspace, delete
    case up, down, left, right, pageUp, pageDown, home, end
    case function(Int)
    case control(Character) // lowercase letter: .control("r") is Ctrl-R
    case resize
}
