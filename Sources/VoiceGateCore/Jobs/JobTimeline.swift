/// Where each finished item of a job goes in the joined audio, from the lengths the audio actually has. The joined
/// file, both subtitle files and the manifest all read their times from here, so they always agree.
public enum JobTimeline {
    /// One item's place, in milliseconds from the start of the joined audio.
    public struct Placement: Sendable, Equatable {
        public var start: Int
        public var duration: Int
        /// How much later than its cue it starts (subtitle jobs; 0 when on time or for text jobs).
        public var drift: Int

        public init(start: Int, duration: Int, drift: Int = 0) {
            self.start = start
            self.duration = duration
            self.drift = drift
        }

        public var end: Int { start + duration }
    }

    /// A text job: each item after the one before it, `pauseMs` of silence between two items.
    public static func sequential(durations: [Int], pauseMs: Int) -> [Placement] {
        var at = 0
        return durations.enumerated().map { index, duration in
            if index > 0 { at += max(0, pauseMs) }
            defer { at += max(0, duration) }
            return Placement(start: at, duration: max(0, duration))
        }
    }

    /// A subtitle job: each item at its cue's start (silence before it), unless the item before it is still
    /// speaking: then right after it (and at least `minGapMs` later), pushed back by the `drift` it reports.
    public static func dubbed(cues: [SubtitleCue], durations: [Int], minGapMs: Int = 0) -> [Placement] {
        precondition(cues.count == durations.count)
        var free = 0
        return zip(cues, durations).enumerated().map { index, pair in
            let (cue, duration) = pair
            let earliest = index == 0 ? 0 : free + max(0, minGapMs)
            let start = max(cue.start, earliest)
            free = start + max(0, duration)
            return Placement(start: start, duration: max(0, duration), drift: start - cue.start)
        }
    }

    /// `fit: "speed"`: the speed that makes an item of `naturalMs` at speed 1 fit its cue, never above `maxSpeed`
    /// (dubs sped up past about 1.2 sound wrong, pyvideotrans #1158) and never below 1 (a short line is not slowed).
    public static func speedToFit(_ cue: SubtitleCue, naturalMs: Int, maxSpeed: Double) -> Double {
        let slot = cue.end - cue.start
        guard slot > 0, naturalMs > slot else { return naturalMs > 0 && slot <= 0 ? max(1, maxSpeed) : 1 }
        return min(max(1, maxSpeed), Double(naturalMs) / Double(slot))
    }

    /// One cue per item, timed from the audio produced.
    public static func cues(_ placements: [Placement], texts: [String]) -> [SubtitleCue] {
        zip(placements, texts).map { SubtitleCue(start: $0.start, end: $0.end, text: $1) }
    }

    /// How long the joined audio is.
    public static func length(_ placements: [Placement]) -> Int { placements.map(\.end).max() ?? 0 }
}
