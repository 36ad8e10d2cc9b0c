/// Draws audio as a row of block characters, one column per slice of peaks (ASCII ramp as fallback).
public enum Waveform {
    static let blocks: [Character] = [" ", "▁", "▂", "▃", "▄", "▅", "▆", "▇", "█"]
    static let asciiRamp: [Character] = [" ", ".", ".", ":", "-", "=", "+", "*", "#"]

    /// Peak absolute level of each of `count` equal slices of `samples`.
    public static func peaks(_ samples: [Float], count: Int) -> [Float] {
        guard count > 0, !samples.isEmpty else { return [] }
        return (0..<count).map { i in
            let from = i * samples.count / count
            let to = max(from + 1, (i + 1) * samples.count / count)
            return samples[from..<min(to, samples.count)].reduce(0) { max($0, abs($1)) }
        }
    }

    /// A plot `height` rows tall: each column's bar rises from the bottom row in eighths of a row.
    public static func rows(_ peaks: [Float], width: Int, height: Int, ascii: Bool) -> [String] {
        guard width > 0, height > 0, !peaks.isEmpty else { return [] }
        let ramp = ascii ? asciiRamp : blocks
        let loudest = max(peaks.max() ?? 1, 1e-6)
        let levels: [Int] = (0..<width).map { column in
            let from = column * peaks.count / width
            let to = max(from + 1, (column + 1) * peaks.count / width)
            let level = peaks[from..<min(to, peaks.count)].max() ?? 0
            return Int((level / loudest * Float(height * 8)).rounded(.up))
        }
        return (0..<height).map { row in
            let floor = (height - 1 - row) * 8 // eighths below this row
            return String(levels.map { ramp[min(8, max(0, $0 - floor))] })
        }
    }

    /// `peaks` resampled to `width` columns and drawn with eight levels.
    public static func render(_ peaks: [Float], width: Int, ascii: Bool) -> String {
        guard width > 0, !peaks.isEmpty else { return "" }
        let ramp = ascii ? asciiRamp : blocks
        let loudest = max(peaks.max() ?? 1, 1e-6)
        return String((0..<width).map { column -> Character in
            let from = column * peaks.count / width
            let to = max(from + 1, (column + 1) * peaks.count / width)
            let level = peaks[from..<min(to, peaks.count)].max() ?? 0
            return ramp[min(8, Int((level / loudest * 8).rounded(.up)))]
        })
    }
}
