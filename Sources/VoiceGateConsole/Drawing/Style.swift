/// How a run of text looks. Colour is never the only signal: every state is also written in words.
public enum Style: Sendable, Equatable, CaseIterable {
    case normal, bold, dim, reverse, good, warning, bad, accent, focus
}
