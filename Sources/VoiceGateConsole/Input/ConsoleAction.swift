/// What a key press asks of the run loop beyond changing the state.
public enum ConsoleAction: Equatable, Sendable {
    case none, quit, synthesize, cancel, redraw
}
