import Testing
@testable import VoiceGateCore

@Suite("A job's timeline: where each item's audio goes")
struct JobTimelineTests {
    @Test func aTextJobPutsItsItemsOneAfterAnotherWithThePauseBetween() {
        let placed = JobTimeline.sequential(durations: [1000, 2500, 400], pauseMs: 300)
        #expect(placed == [.init(start: 0, duration: 1000), .init(start: 1300, duration: 2500), .init(start: 4100, duration: 400)])
        #expect(JobTimeline.length(placed) == 4500)
        #expect(JobTimeline.sequential(durations: [], pauseMs: 300).isEmpty)
        #expect(JobTimeline.length([]) == 0)
    }

    @Test func aDubPlacesEachItemAtItsCueAndPushesBackWhatALongLineOverran() {
        let cues = [SubtitleCue(start: 500, end: 2000, text: "a"), SubtitleCue(start: 2500, end: 4000, text: "b"),
                    SubtitleCue(start: 4200, end: 5000, text: "c"), SubtitleCue(start: 9000, end: 9500, text: "d")]
        // b runs 2.3 s in a 1.5 s slot: c starts when b ends, 1.6 s late; d is on time again.
        let placed = JobTimeline.dubbed(cues: cues, durations: [1200, 2300, 700, 400])
        #expect(placed == [.init(start: 500, duration: 1200), .init(start: 2500, duration: 2300),
                           .init(start: 4800, duration: 700, drift: 600), .init(start: 9000, duration: 400)])
        #expect(JobTimeline.dubbed(cues: cues, durations: [1200, 2300, 700, 400], minGapMs: 100)[2] == .init(start: 4900, duration: 700, drift: 700))
        #expect(JobTimeline.cues(placed, texts: cues.map(\.text)).map(\.end) == [1700, 4800, 5500, 9400])
    }

    @Test func fittingBySpeedNeverPassesMaxSpeedAndNeverSlowsDown() {
        let cue = SubtitleCue(start: 1000, end: 3000, text: "x")
        #expect(JobTimeline.speedToFit(cue, naturalMs: 1500, maxSpeed: 1.2) == 1)
        #expect(JobTimeline.speedToFit(cue, naturalMs: 2200, maxSpeed: 1.2) == 1.1)
        #expect(JobTimeline.speedToFit(cue, naturalMs: 4000, maxSpeed: 1.2) == 1.2)
        #expect(JobTimeline.speedToFit(SubtitleCue(start: 5, end: 5, text: "x"), naturalMs: 900, maxSpeed: 1.2) == 1.2)
    }
}
