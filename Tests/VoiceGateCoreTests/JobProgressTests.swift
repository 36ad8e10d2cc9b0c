import Testing
@testable import VoiceGateCore

@Suite("The progress line of voicegate jobs submit")
struct JobProgressTests {
    @Test func showsTheBarItemsAudioAndTimeLeft() {
        let running = JobProgress(done: 10, failed: 2, total: 40, audioSeconds: 192, etaSeconds: 80, status: "running")
        #expect(running.line(width: 20) == "[######--------------] 12/40 items (2 failed), 3.2 min of audio, about 1m20s left")
        let paused = JobProgress(done: 3, failed: 0, total: 4, audioSeconds: 6, etaSeconds: 5, status: "paused")
        #expect(paused.line(width: 4) == "[###-] 3/4 items, 0.1 min of audio, paused")
        let done = JobProgress(done: 4, failed: 0, total: 4, audioSeconds: 8000, etaSeconds: nil, status: "done")
        #expect(done.line(width: 4) == "[####] 4/4 items, 133.3 min of audio")
        #expect(JobProgress(done: 0, failed: 0, total: 0, audioSeconds: 0, etaSeconds: nil, status: "queued").line(width: 2)
                == "[--] 0/0 items, 0.0 min of audio, queued")
        #expect([JobProgress.duration(44.6), JobProgress.duration(185), JobProgress.duration(7800)] == ["45s", "3m05s", "2h10m"])
    }
}
