import Testing
@testable import VoiceGateCore

@Suite("Requests in the last minute")
struct MinuteCounterTests {
    @Test func countsTheLastMinuteInSixtyBucketsWhateverTheRate() {
        let origin = ContinuousClock.now
        var counter = MinuteCounter(origin: origin)
        // 200,000 requests over 100 s: the memory is the same sixty buckets throughout.
        for i in 0..<200_000 { counter.add(at: origin + .milliseconds(i / 2)) }
        let end = origin + .milliseconds(99_999)
        #expect(counter.count(at: end) == 120_000)
        // At a limit of 120,000 the oldest second must leave first: within a second.
        #expect(counter.secondsUntilBelow(120_000, at: end) == 1)
        #expect(counter.secondsUntilBelow(2_000, at: end) == 60)
        #expect(counter.count(at: end + .seconds(61)) == 0)
    }
}
