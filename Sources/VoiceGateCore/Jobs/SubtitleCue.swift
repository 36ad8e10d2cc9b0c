/// One subtitle: when it is shown (milliseconds from the start) and what it says.
public struct SubtitleCue: Sendable, Equatable {
    public var start: Int
    public var end: Int
    public var text: String

    public init(start: Int, end: Int, text: String) {
        self.start = start
        self.end = end
        self.text = text
    }
}
