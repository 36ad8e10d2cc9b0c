/// Requests in the last minute in fixed memory: sixty one-second buckets. A list of every request's time (what
/// the requests-per-minute limit kept before) grows with the rate, and dropping its old head shifted the whole
/// list on every request. The window is 59-60 s: a request leaves it within a second of turning a minute old.
struct MinuteCounter: Sendable {
    private var counts = [Int](repeating: 0, count: 60)
    /// The second (since `origin`) each bucket counts.
    private var seconds = [Int](repeating: Int.min, count: 60)
    private let origin: ContinuousClock.Instant

    init(origin: ContinuousClock.Instant = .now) { self.origin = origin }

    private func second(_ instant: ContinuousClock.Instant) -> Int { Int((instant - origin).seconds.rounded(.down)) }

    mutating func add(at instant: ContinuousClock.Instant) {
        let now = second(instant)
        let slot = ((now % 60) + 60) % 60
        if seconds[slot] != now {
            seconds[slot] = now
            counts[slot] = 0
        }
        counts[slot] += 1
    }

    func count(at instant: ContinuousClock.Instant) -> Int {
        let now = second(instant)
        return (0..<60).reduce(0) { $0 + (seconds[$1] > now - 60 && seconds[$1] <= now ? counts[$1] : 0) }
    }

    /// Seconds until fewer than `limit` remain in the window (at least 1).
    func secondsUntilBelow(_ limit: Int, at instant: ContinuousClock.Instant) -> Int {
        let now = second(instant)
        var total = count(at: instant)
        for age in stride(from: 59, through: 0, by: -1) {
            let s = now - age
            let slot = ((s % 60) + 60) % 60
            if seconds[slot] == s { total -= counts[slot] }
            if total < limit { return max(1, 60 - age) }
        }
        return 60
    }
}
