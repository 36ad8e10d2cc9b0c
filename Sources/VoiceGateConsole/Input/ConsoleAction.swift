/// What a key press asks of the run loop beyond changing the state.
public enum ConsoleAction: Equatable, Sendable {
    case none, quit, synthesize, cancel, redraw
    /// The workers view's d and r, on the selected worker.
    case drain(String), resume(String)
    /// The jobs view's c (on the selected job) and r (on the selected item of the open job).
    case cancelJob(String), regenerateItem(job: String, index: Int)
}
