/// Estimates a speaker's median fundamental frequency (F0) by autocorrelation over voiced frames.
public enum PitchEstimator {
    static let analysisRate = 8000
    static let minF0 = 60.0
    static let maxF0 = 400.0

    /// The median F0 in Hz, or nil when too little of the recording is voiced.
    public static func medianF0(samples: [Float], sampleRate: Int) -> Double? {
        let x = downsample(samples, from: sampleRate)
        let frame = analysisRate / 25 // 40 ms
        let hop = frame / 2
        let minLag = Int(Double(analysisRate) / maxF0)
        let maxLag = Int(Double(analysisRate) / minF0)
        guard x.count >= frame + maxLag else { return nil }
        var energies: [Float] = []
        var start = 0
        while start + frame + maxLag <= x.count {
            var e: Float = 0
            for i in start..<start + frame { e += x[i] * x[i] }
            energies.append(e)
            start += hop
        }
        guard let loudest = energies.max(), loudest > 0 else { return nil }
        var estimates: [Double] = []
        for (n, energy) in energies.enumerated() where energy > loudest * 0.05 {
            let s = n * hop
            var best: Float = 0
            var bestLag = 0
            var correlations = [Float](repeating: 0, count: maxLag + 2)
            for lag in minLag...maxLag {
                var c: Float = 0, e2: Float = 0
                for i in s..<s + frame {
                    c += x[i] * x[i + lag]
                    e2 += x[i + lag] * x[i + lag]
                }
                let normalized = c / max(1e-9, (energy * e2).squareRoot())
                correlations[lag] = normalized
                if normalized > best { best = normalized; bestLag = lag }
            }
            guard best > 0.6, bestLag > minLag, bestLag < maxLag else { continue }
            // Prefer the shortest lag that is nearly as good: avoids octave-low errors.
            var lag = bestLag
            for candidate in minLag..<bestLag where correlations[candidate] > best * 0.9
                && correlations[candidate] >= correlations[candidate - 1] && correlations[candidate] >= correlations[candidate + 1] {
                lag = candidate
                break
            }
            // Parabolic interpolation around the peak for sub-sample precision.
            let a = correlations[lag - 1], b = correlations[lag], c = correlations[lag + 1]
            let denominator = a - 2 * b + c
            let offset = denominator == 0 ? 0 : 0.5 * (a - c) / denominator
            estimates.append(Double(analysisRate) / (Double(lag) + Double(offset)))
        }
        guard estimates.count >= 5 else { return nil }
        estimates.sort()
        return estimates[estimates.count / 2]
    }

    /// Box-filtered decimation to the analysis rate; the filter also removes most energy above the F0 range.
    static func downsample(_ samples: [Float], from rate: Int) -> [Float] {
        guard rate > analysisRate else { return samples }
        let step = Double(rate) / Double(analysisRate)
        let count = Int(Double(samples.count) / step)
        var out = [Float](repeating: 0, count: count)
        for i in 0..<count {
            let from = Int(Double(i) * step)
            let to = min(samples.count, Int(Double(i + 1) * step))
            var sum: Float = 0
            for j in from..<to { sum += samples[j] }
            out[i] = sum / Float(max(1, to - from))
        }
        return out
    }
}
