import VoiceGateCore

/// What the run loop needs from the log pane's filtering without drawing it.
public enum ConsoleRendererSupport {
    public static func lineCount(_ events: [RequestEvent], filter: String) -> Int {
        LogPane.lineCount(events, filter: filter)
    }
}
