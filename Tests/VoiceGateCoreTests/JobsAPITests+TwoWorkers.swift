import Foundation
import SovitsDouble
import Testing
@testable import VoiceGateCore

extension JobsAPITests {
    /// The issue's long job: 200 items on two api_v2 doubles, two at a time. Every item is synthesized once; the
    /// joined file holds each item's own samples at the start its SRT cue gives, in order, with the pauses between;
    /// another key's request made during the job starts after at most one more of the job's items.
    @Test func twoHundredItemsOnTwoWorkersRunOnceInOrderAndLetAnotherKeyThrough() async throws {
        var options = Self.fast()
        options.inferenceDelay = .milliseconds(40)
        let servers = [try await SovitsDoubleServer.start(SovitsDouble(options: options)),
                       try await SovitsDoubleServer.start(SovitsDouble(options: options))]
        // Lengths differ from one item to the next, so an item out of place cannot match.
        let texts = (0..<200).map { "Line \($0) of the chapter" + String(repeating: " again", count: $0 % 7) + "." }
        let pauseMs = 120
        do {
            try await TestGateway.run(upstream: .workers(servers.map(\.url))) { t in
                try await t.makeVoice("narrator")
                let other = try await t.makeKey("other")
                let r = try await Self.submit(t, ["voice": "narrator", "items": texts.map { ["text": $0] }, "pause_ms": pauseMs, "parallel": 2])
                #expect(r.status == 202 && r.json["total"] as? Int == 200)
                let id = try #require(r.json["id"] as? String)

                // Another key's request, well into the job: counted as places the queue has handed out when it joins
                // the queue, against the requests the doubles saw before it. (A request that finds a worker free
                // never joins: nothing went before it.)
                #expect(await eventually(timeout: 20) { (try? await t.request(.GET, "/api/v1/jobs/\(id)").json["done"] as? Int ?? 0) ?? 0 >= 40 })
                let queue = t.gateway.service.queue
                let joined = Task { () -> Int? in
                    while queue.waitingByLane["other"] == nil {
                        guard (try? await Task.sleep(for: .milliseconds(1))) != nil else { return nil }
                    }
                    return queue.granted
                }
                let interactive = "Another key asks for one line."
                let answer = try await t.synthesize(.synthesis(text: interactive, reference: TestAudio.wav(seconds: 3)), key: other)
                #expect(answer.status == 200)
                joined.cancel()
                if let grantedBefore = await joined.value {
                    let seen = servers.flatMap { s in
                        zip(s.double.recorder.stats.bodies, s.double.recorder.stats.began).map { ($0["text"]?.string, $1) }
                    }
                    let startedAt = try #require(seen.first { $0.0 == interactive }?.1)
                    let before = seen.count { $0.1 < startedAt }
                    #expect(before - grantedBefore <= 1, "\(before - grantedBefore) of the job's items started after the other key's request joined")
                }

                let job = try await Self.job(t, id, becomes: "done", timeout: 60)
                #expect(job["done"] as? Int == 200 && job["failed"] as? Int == 0 && job["parallel"] as? Int == 2)

                // Every item once, on both workers, never two at once on one.
                let sent = servers.flatMap { $0.double.recorder.stats.bodies.compactMap { $0["text"]?.string } }.filter { $0 != interactive }
                #expect(sent.sorted() == texts.sorted())
                #expect(servers.allSatisfy { $0.double.recorder.stats.ttsRequests >= 50 && $0.double.recorder.stats.maxOverlap == 1 })

                // The joined audio: each item's own samples where its cue starts, silence between, and its length the
                // items' plus the pauses.
                let durations = Self.items(job).compactMap { $0["duration_ms"] as? Int }
                #expect(durations.count == 200)
                let joinedAudio = try PCMDecoder.decodeWAV([UInt8](try await t.request(.GET, "/api/v1/jobs/\(id)/audio").body))
                let rate = joinedAudio.sampleRate
                #expect(joinedAudio.samples.count == (durations.reduce(0, +) + 199 * pauseMs) * rate / 1000)
                let srt = try await t.request(.GET, "/api/v1/jobs/\(id)/subtitles.srt")
                let (_, cues) = try SubtitleFile.read([UInt8](srt.body), maxCues: 500)
                #expect(cues.map(\.text) == texts)
                var covered = 0
                for (index, cue) in cues.enumerated() {
                    let item = try PCMDecoder.decodeWAV([UInt8](try await t.request(.GET, "/api/v1/jobs/\(id)/items/\(index)/audio").body))
                    let start = cue.start * rate / 1000
                    #expect(cue.end - cue.start == durations[index] && item.samples.count == durations[index] * rate / 1000)
                    #expect(joinedAudio.samples[covered..<start].allSatisfy { $0 == 0 }, "sound before item \(index)")
                    #expect(Array(joinedAudio.samples[start..<(start + item.samples.count)]) == item.samples, "item \(index) is not at its cue")
                    covered = start + item.samples.count
                }
                #expect(covered == joinedAudio.samples.count)
            }
        } catch {
            for s in servers { await s.stop() }
            throw error
        }
        for s in servers { await s.stop() }
    }

    /// A job runs one item at a time by default, even with two workers free: the next item starts once the last
    /// one's answer is in (before its file is written out), never beside it. Its key's one place (`concurrent: 1`)
    /// is free by then too: no item is refused for the one before it.
    @Test func byDefaultTheNextItemStartsOnceTheLastIsAnsweredAndNeverBesideIt() async throws {
        var options = Self.fast()
        options.inferenceDelay = .milliseconds(20)
        let servers = [try await SovitsDoubleServer.start(SovitsDouble(options: options)),
                       try await SovitsDoubleServer.start(SovitsDouble(options: options))]
        do {
            try await TestGateway.run(upstream: .workers(servers.map(\.url))) { t in
                try await t.makeVoice("narrator", extra: ["shared": "true"])
                let solo = try await t.makeKey("solo", limits: ["concurrent": 1])
                let r = try await Self.submit(t, ["voice": "narrator", "items": (0..<20).map { ["text": "Line \($0) said alone."] }], key: solo)
                let id = try #require(r.json["id"] as? String)
                let job = try await Self.job(t, id, becomes: "done", timeout: 30)
                #expect(job["done"] as? Int == 20 && job["failed"] as? Int == 0)

                let runs = servers.flatMap { $0.double.recorder.stats.intervals }.sorted { $0.start < $1.start }
                #expect(runs.count == 20)
                let overlapping = zip(runs, runs.dropFirst()).filter { $1.start < $0.end }.count
                #expect(overlapping == 0, "\(overlapping) items started while the one before them ran")

                let history = try await t.request(.GET, "/api/v1/history?limit=100")
                let rows = (history.json["items"] as? [[String: Any]] ?? []).filter { ($0["request_id"] as? String)?.hasPrefix(id) == true }
                #expect(rows.count == 20 && rows.allSatisfy { $0["status"] as? Int == 200 },
                        "\(rows.compactMap { $0["error"] as? String })")
            }
        } catch {
            for s in servers { await s.stop() }
            throw error
        }
        for s in servers { await s.stop() }
    }
}
