/// Terminal column widths without `wcwidth` (not visible from Swift's Glibc): combining marks take 0
/// columns; CJK, Hangul, fullwidth forms and emoji take 2.
public enum TextWidth {
    public static func of(_ scalar: Unicode.Scalar) -> Int {
        let v = scalar.value
        if v == 0 || (0x0300...0x036F).contains(v) || (0x200B...0x200F).contains(v) || (0xFE00...0xFE0F).contains(v) { return 0 }
        if (0x1100...0x115F).contains(v) || (0x2E80...0xA4CF).contains(v) || (0xAC00...0xD7A3).contains(v)
            || (0xF900...0xFAFF).contains(v) || (0xFE30...0xFE4F).contains(v) || (0xFF00...0xFF60).contains(v)
            || (0xFFE0...0xFFE6).contains(v) || (0x1F300...0x1FAFF).contains(v) || (0x20000...0x3FFFD).contains(v) {
            return 2
        }
        return 1
    }

    public static func of(_ character: Character) -> Int {
        character.unicodeScalars.first.map { of($0) } ?? 0
    }

    public static func of(_ text: String) -> Int {
        text.reduce(0) { $0 + of($1) }
    }

    /// The longest prefix of `text` that fits in `columns`.
    public static func clip(_ text: String, to columns: Int) -> String {
        var used = 0
        var out = ""
        for c in text {
            let w = of(c)
            if used + w > columns { break }
            used += w
            out.append(c)
        }
        return out
    }

    /// `text` clipped or padded with spaces to exactly `columns`.
    public static func pad(_ text: String, to columns: Int) -> String {
        let clipped = clip(text, to: columns)
        return clipped + String(repeating: " ", count: max(0, columns - of(clipped)))
    }

    /// The last `columns` worth of `text` (for a text field that scrolls to its cursor).
    public static func tail(_ text: String, fitting columns: Int) -> String {
        var used = 0
        var out: [Character] = []
        for c in text.reversed() {
            let w = of(c)
            if used + w > columns { break }
            used += w
            out.append(c)
        }
        return String(out.reversed())
    }
}
