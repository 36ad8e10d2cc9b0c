/// Where the console draws: the terminal through ncurses, or memory in tests.
public protocol Canvas: AnyObject {
    var width: Int { get }
    var height: Int { get }
    /// Writes `text` from column `x` on row `y`, clipped to `maxWidth` columns (and the canvas).
    func put(_ x: Int, _ y: Int, _ text: String, style: Style, maxWidth: Int?)
    /// Clears everything before a frame.
    func clear()
}

extension Canvas {
    public func put(_ x: Int, _ y: Int, _ text: String, style: Style = .normal) {
        put(x, y, text, style: style, maxWidth: nil)
    }
}
