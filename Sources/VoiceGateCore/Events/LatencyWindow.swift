import Foundation
import Histogram

/// Latencies over the last `window` seconds in fixed memory, whatever the request rate: the window is cut into
/// slices, each an HdrHistogram (two significant digits: percentiles within 1%), and a slice is cleared when the
/// clock comes round to it again. A list of raw samples would grow with rate x window (310 MiB at 2,000 req/s).
struct LatencyWindow {
    private static let slices = 10
    private static let highestMicroseconds: UInt64 = 3_600_000_000 // an hour; longer is counted as an hour

    private let sliceLength: TimeInterval
    private var histograms: [Histogram<UInt32>]
    private var sliceNumbers: [Int]

    init(window: TimeInterval) {
        sliceLength = window / Double(Self.slices)
        histograms = Array(repeating: Histogram(highestTrackableValue: Self.highestMicroseconds, numberOfSignificantValueDigits: .two),
                           count: Self.slices)
        sliceNumbers = Array(repeating: Int.min, count: Self.slices)
    }

    mutating func record(_ latency: Double, at time: Date) {
        let number = sliceNumber(time)
        let slot = Self.slot(number)
        if sliceNumbers[slot] != number {
            histograms[slot].reset()
            sliceNumbers[slot] = number
        }
        let micros = latency.isFinite ? UInt64(max(0, min(latency * 1e6, Double(Self.highestMicroseconds)))) : Self.highestMicroseconds
        _ = histograms[slot].record(micros)
    }

    /// Nearest-rank percentiles (0-100) of the latencies within the window ending at `now`, in seconds.
    func percentiles(_ ps: [Double], now: Date) -> [Double]? {
        let current = sliceNumber(now)
        var merged: Histogram<UInt32>?
        for slot in 0..<Self.slices where sliceNumbers[slot] > current - Self.slices && sliceNumbers[slot] <= current {
            if merged == nil { merged = histograms[slot] } else { merged!.add(histograms[slot]) }
        }
        guard let merged, merged.totalCount > 0 else { return nil }
        return ps.map { Double(merged.valueAtPercentile($0)) / 1e6 }
    }

    /// What the window holds in memory, the same after one request or a billion.
    var footprintInBytes: Int { histograms.reduce(0) { $0 + $1.estimatedFootprintInBytes } }

    private func sliceNumber(_ time: Date) -> Int { Int((time.timeIntervalSince1970 / sliceLength).rounded(.down)) }

    private static func slot(_ number: Int) -> Int { ((number % slices) + slices) % slices }
}
