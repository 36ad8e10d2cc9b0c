import VoiceGateCore

/// What the run loop needs from the log pane without drawing it.
public enum ConsoleRendererSupport {
    /// Lines the (filtered) log has, for bounding how far it scrolls back.
    public static func lineCount(_ snapshot: DashboardSnapshot, filter: String) -> Int {
        LogPane.lineCount(snapshot, filter: filter)
    }

    /// The request Enter opens: the bottom one in a log pane of `height` rows (inside its box).
    public static func selectedRequest(_ snapshot: DashboardSnapshot, _ state: ConsoleState, height: Int) -> RequestEvent? {
        LogPane.selected(snapshot.events, state, height: height)
    }
}
