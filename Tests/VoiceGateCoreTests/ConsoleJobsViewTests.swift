import Foundation
import Testing
@testable import VoiceGateConsole
@testable import VoiceGateCore

@Suite("The console's jobs view")
struct ConsoleJobsViewTests {
    /// A job submitted over HTTP shows in the view (j, F4) with its items counted, the audio made and its status;
    /// the store is read only while the view is shown.
    @Test func aJobShowsWithItsProgressAndTheViewTogglesWithJAndF4() async throws {
        try await TestGateway.run(upstream: .double(JobsAPITests.fast())) { t in
            try await t.makeVoice("narrator")
            let r = try await JobsAPITests.submit(t, ["voice": "narrator", "items": [["text": "First line."], ["text": "Second line."]]])
            let id = try #require(r.json["id"] as? String)
            _ = try await JobsAPITests.job(t, id, becomes: "done")
            #expect(t.gateway.jobs.recent.isEmpty, "nothing is read for a view nobody shows")

            var state = ConsoleScreenTests.state()
            let handler = KeyHandler()
            _ = handler.handle(.function(4), &state)
            #expect(state.view == .jobs)
            _ = DashboardSnapshot.of(t.gateway, listen: "x", notice: nil, view: .jobs)
            #expect(await eventually { t.gateway.jobs.recent.first?.counts.done == 2 })
            let snapshot = DashboardSnapshot.of(t.gateway, listen: "x", notice: nil, view: .jobs)
            let canvas = MemoryCanvas(width: 120, height: 30)
            try #require(ConsoleRenderer().render(state, snapshot, on: canvas) != nil)
            #expect(canvas.contains("Jobs (0 running, newest 1)"))
            #expect(canvas.contains(String(id.prefix(8))) && canvas.contains("narrator") && canvas.contains("done"))
            #expect(canvas.contains("2/2") && canvas.contains("AUDIO") && !canvas.contains("Synthesize"))
            #expect(canvas.contains("############"))

            // Enter: the job's items, as the store has them.
            var keys = handler
            keys.jobIDs = snapshot.jobs.map(\.job.id)
            _ = keys.handle(.enter, &state)
            #expect(state.openJob == id)
            _ = DashboardSnapshot.of(t.gateway, listen: "x", notice: nil, view: .jobs, openJob: id)
            #expect(await eventually { t.gateway.jobs.openItems.count == 2 })
            let open = DashboardSnapshot.of(t.gateway, listen: "x", notice: nil, view: .jobs, openJob: id)
            let items = MemoryCanvas(width: 120, height: 30)
            try #require(ConsoleRenderer().render(state, open, on: items) != nil)
            #expect(items.contains("Job \(id.prefix(8)) (done, 2/2 done)") && items.contains("STARTS AT") && items.contains("r: redo item"))
            _ = keys.handle(.escape, &state)
            _ = handler.handle(.character("j"), &state)
            #expect(state.view == .log)
        }
    }

    @Test func rowsSayHowFarEachJobIsAndWhoRunsIt() {
        var job = JobRecord(id: "0123456789abcdef0123456789abcdef", key: "team", voice: "nina", status: .running, total: 40,
                            createdAt: Date(timeIntervalSince1970: 0), runner: "gw-a")
        let row = JobsPane.cells(JobSummary(job: job, counts: JobCounts(done: 12, failed: 1, audioMs: 90_000)), this: "gw-a",
                                 now: Date(timeIntervalSince1970: 130))
        // 13 of 40 in 130 s: 27 more at 10 s each.
        #expect(Array(row.prefix(10)) == ["01234567", "team", "nina", "running", "###.........", "12/40", "1", "1.5 min", "4m30s", "gw-a *"])
        job.status = .paused
        job.reason = "key team used its 1000 characters today"
        let paused = JobsPane.cells(JobSummary(job: job, counts: JobCounts()), this: "gw-b")
        #expect(paused[3] == "paused" && paused[8] == "-" && paused[9] == "gw-a" && paused.last == job.reason)
        job.status = .done
        #expect(JobsPane.cells(JobSummary(job: job, counts: JobCounts()), this: "gw-a")[9] == "-")
    }

    /// ↑↓ pick a job, Enter shows its items, r redoes the selected item, c cancels the job, Esc goes back.
    @Test func keysPickAJobOpenItsItemsRedoOneAndCancel() {
        var state = ConsoleScreenTests.state()
        var handler = KeyHandler()
        handler.jobIDs = ["job-a", "job-b"]
        _ = handler.handle(.character("j"), &state)
        _ = handler.handle(.down, &state)
        #expect(state.jobSelection == 1)
        #expect(handler.handle(.character("c"), &state) == .cancelJob("job-b"))
        _ = handler.handle(.enter, &state)
        #expect(state.openJob == "job-b")
        handler.itemIndexes = [0, 1, 2]
        _ = handler.handle(.down, &state)
        _ = handler.handle(.down, &state)
        _ = handler.handle(.down, &state)
        #expect(handler.handle(.character("r"), &state) == .regenerateItem(job: "job-b", index: 2))
        _ = handler.handle(.escape, &state)
        #expect(state.openJob == nil && state.view == .jobs)
    }
}
