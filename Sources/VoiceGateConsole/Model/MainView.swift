/// What takes the log's place: the log itself, or one of the tables. One at a time; overlays (a request's detail,
/// help) come on top of any of them.
public enum MainView: Sendable, Equatable {
    case log
    /// Each key's use against its limits (k on the log, F2).
    case keys
    /// The workers (w, F3); covers the form too.
    case workers
    /// The gateways sharing the store (g, F5); covers the form too.
    case gateways
    /// The long-form jobs on the store, newest first (j, F4); covers the form too.
    case jobs

    /// The key on the log and the function key that show it (and, pressed again, the log).
    static func toggled(_ current: MainView, to view: MainView) -> MainView { current == view ? .log : view }

    /// Tables that need the whole width.
    var coversForm: Bool { self == .workers || self == .gateways || self == .jobs }
}
