/// What a key press asks of the run loop beyond changing the state.
public enum ConsoleAction: Equatable, Sendable {
    case none, quit, synthesize, cancel, redraw
    /// The workers view's d and r, on the selected worker.
    case drain(String), resume(String)
}
