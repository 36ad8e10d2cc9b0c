/// Rectangles and frames, in Unicode line drawing or plain ASCII for terminals that mangle it.
public struct Rect: Equatable, Sendable {
    public var x, y, width, height: Int
    public init(x: Int, y: Int, width: Int, height: Int) {
        self.x = x; self.y = y; self.width = width; self.height = height
    }
    var inner: Rect { Rect(x: x + 1, y: y + 1, width: max(0, width - 2), height: max(0, height - 2)) }
}

enum Box {
    static func draw(_ canvas: Canvas, _ r: Rect, title: String, focused: Bool, ascii: Bool) {
        guard r.width >= 2, r.height >= 2 else { return }
        let (h, v, tl, tr, bl, br) = ascii ? ("-", "|", "+", "+", "+", "+") : ("─", "│", "┌", "┐", "└", "┘")
        let style: Style = focused ? .focus : .dim
        let line = String(repeating: h, count: r.width - 2)
        canvas.put(r.x, r.y, tl + line + tr, style: style)
        canvas.put(r.x, r.y + r.height - 1, bl + line + br, style: style)
        for row in 1..<(r.height - 1) {
            canvas.put(r.x, r.y + row, v, style: style)
            canvas.put(r.x + r.width - 1, r.y + row, v, style: style)
        }
        canvas.put(r.x + 2, r.y, " \(title) ", style: focused ? .focus : .bold, maxWidth: r.width - 4)
    }
}
