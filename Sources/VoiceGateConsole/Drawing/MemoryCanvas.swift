/// An in-memory screen for tests: a grid of cells with their styles. Wide characters take two cells.
public final class MemoryCanvas: Canvas {
    public struct Cell: Equatable {
        public var text: String
        public var style: Style
    }

    public let width: Int
    public let height: Int
    public private(set) var cells: [[Cell]]

    public init(width: Int, height: Int) {
        self.width = width
        self.height = height
        cells = Array(repeating: Array(repeating: Cell(text: " ", style: .normal), count: width), count: height)
    }

    public func clear() {
        cells = Array(repeating: Array(repeating: Cell(text: " ", style: .normal), count: width), count: height)
    }

    public func put(_ x: Int, _ y: Int, _ text: String, style: Style, maxWidth: Int?) {
        guard y >= 0, y < height, x < width else { return }
        var column = x
        let limit = min(width, x + (maxWidth ?? width))
        for c in text {
            let w = TextWidth.of(c)
            if column + w > limit { break }
            if column >= 0 && w > 0 {
                cells[y][column] = Cell(text: String(c), style: style)
                if w == 2 { cells[y][column + 1] = Cell(text: "", style: style) }
            }
            column += w
        }
    }

    /// Row `y` as text (a wide character stands once for its two cells).
    public func row(_ y: Int) -> String { cells[y].map(\.text).joined() }

    public var text: String { (0..<height).map(row).joined(separator: "\n") }

    public func contains(_ needle: String) -> Bool { (0..<height).contains { row($0).contains(needle) } }

    /// The style of the first cell of the first occurrence of `needle`.
    public func style(of needle: String) -> Style? {
        for y in 0..<height {
            let line = cells[y]
            let texts = line.map(\.text)
            let joined = texts.joined()
            guard let range = joined.range(of: needle) else { continue }
            let prefix = joined[joined.startIndex..<range.lowerBound]
            var consumed = 0, index = 0
            while index < texts.count && consumed < prefix.count { consumed += texts[index].count; index += 1 }
            return index < line.count ? line[index].style : nil
        }
        return nil
    }
}
