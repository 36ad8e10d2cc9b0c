import Crypto
import Foundation
import HTTPTypes
import Hummingbird
import Logging
import NIOPosix
import ServiceLifecycle
import SovitsDouble
import Synchronization
import Testing
@testable import VoiceGateCore

/// Long-form jobs through the real HTTP API against the api_v2 double: submitted, run item by item, joined,
/// subtitled from the audio made, redone, cancelled, deleted, and resumed by a gateway started after one stopped.
/// One at a time: each runs a gateway and a double, and the suite shares two cores with every other.
@Suite("Long-form jobs over HTTP", .serialized)
struct JobsAPITests {
    static let jsonHeaders = [("Content-Type", "application/json")]

    static func fast() -> SovitsDoubleOptions {
        var options = SovitsDoubleOptions()
        options.secondsPerCharacter = 0.02
        options.inferenceDelay = .milliseconds(10)
        return options
    }

    static func submit(_ t: TestGateway, _ body: [String: Any], key: String? = TestGateway.apiKey) async throws -> TestResponse {
        try await t.request(.POST, "/api/v1/jobs", headers: jsonHeaders, body: try JSONSerialization.data(withJSONObject: body), key: key)
    }

    /// The job once its status is `status` (fails the test after `timeout`).
    static func job(_ t: TestGateway, _ id: String, becomes status: String, timeout: Double = 20) async throws -> [String: Any] {
        let deadline = Date().addingTimeInterval(timeout)
        while true {
            let r = try await t.request(.GET, "/api/v1/jobs/\(id)")
            if r.json["status"] as? String == status { return r.json }
            guard Date() < deadline else { throw TestFailure("job \(id) is \(r.json["status"] ?? r.status), not \(status)") }
            try await Task.sleep(for: .milliseconds(50))
        }
    }

    static func items(_ job: [String: Any]) -> [[String: Any]] { job["items"] as? [[String: Any]] ?? [] }

    @Test func aTextJobIsSplitRunJoinedAndSubtitledFromTheAudioMade() async throws {
        try await TestGateway.run(upstream: .double(Self.fast())) { t in
            try await t.makeVoice("narrator")
            let text = "The first sentence is here. The second one follows! Does a third? Yes, Dr. Smith.\n\nA new paragraph, at last."
            let r = try await Self.submit(t, ["voice": "narrator", "text": text, "pause_ms": 250])
            #expect(r.status == 202)
            let id = try #require(r.json["id"] as? String)
            #expect(r.headers["location"] == "jobs/\(id)" && r.json["total"] as? Int == 5 && r.json["status"] as? String == "queued")

            let job = try await Self.job(t, id, becomes: "done")
            let items = Self.items(job)
            #expect(items.map { $0["status"] as? String } == Array(repeating: "done", count: 5))
            let durations = items.compactMap { $0["duration_ms"] as? Int }
            #expect(durations.count == 5 && durations.allSatisfy { $0 > 0 })
            let starts = items.compactMap { $0["start_ms"] as? Int }
            #expect(starts == JobTimeline.sequential(durations: durations, pauseMs: 250).map(\.start))
            let length = starts.last! + durations.last!
            #expect(job["audio_seconds"] as? Double == Double(length) / 1000)
            #expect(job["done"] as? Int == 5 && job["failed"] as? Int == 0 && job["finished_at"] is String)

            // The joined audio holds every item and the pauses, with a real length.
            let audio = try await t.request(.GET, "/api/v1/jobs/\(id)/audio")
            #expect(audio.status == 200 && audio.headers["content-type"]?.hasPrefix("audio/wav") == true)
            let decoded = try PCMDecoder.decodeWAV([UInt8](audio.body))
            #expect(abs(decoded.samples.count * 1000 / decoded.sampleRate - length) <= 1)
            #expect(audio.headers["content-length"] == String(audio.body.count))

            // Subtitles timed from the audio made, one cue per item.
            for format in SubtitleFile.Format.allCases {
                let r = try await t.request(.GET, "/api/v1/jobs/\(id)/subtitles.\(format.rawValue)")
                #expect(r.status == 200)
                let (read, cues) = try SubtitleFile.read([UInt8](r.body), maxCues: 10)
                #expect(read == format && cues.map(\.start) == starts && zip(cues, durations).allSatisfy { $0.end - $0.start == $1 })
                #expect(cues.map(\.text) == ["The first sentence is here.", "The second one follows!", "Does a third?", "Yes, Dr. Smith.",
                                             "A new paragraph, at last."])
            }
            let one = try await t.request(.GET, "/api/v1/jobs/\(id)/items/3/audio")
            #expect(one.status == 200)
            #expect(try PCMDecoder.decodeWAV([UInt8](one.body)).samples.count * 1000 / 32000 == durations[3])
            #expect(try await t.request(.GET, "/api/v1/jobs/\(id)/items/5/audio").status == 404)

            // Every item is one history row tied to its job.
            let history = try await t.request(.GET, "/api/v1/history?limit=50")
            let ids = (history.json["items"] as? [[String: Any]] ?? []).compactMap { $0["request_id"] as? String }.filter { $0.hasPrefix(id) }
            #expect(Set(ids) == Set((0..<5).map { "\(id)/\($0)" }))
            #expect(t.double?.recorder.stats.ttsRequests == 5)
        }
    }

    @Test func theArchiveHoldsEverythingAndPythonReadsIt() async throws {
        try await TestGateway.run(upstream: .double(Self.fast())) { t in
            try await t.makeVoice("narrator")
            let r = try await Self.submit(t, ["voice": "narrator", "format": "mp3",
                                              "items": [["text": "One line.", "id": "intro"], ["text": "Another line."]]])
            let id = try #require(r.json["id"] as? String)
            _ = try await Self.job(t, id, becomes: "done")
            let mp3 = try await t.request(.GET, "/api/v1/jobs/\(id)/audio")
            #expect(mp3.status == 200 && mp3.headers["content-type"] == "audio/mpeg" && mp3.body.starts(with: [0x49, 0x44, 0x33]) == false)
            let zip = try await t.request(.GET, "/api/v1/jobs/\(id)/archive.zip")
            #expect(zip.status == 200 && zip.headers["content-type"] == "application/zip")
            let path = NSTemporaryDirectory() + "job-\(UUID().uuidString).zip"
            try zip.body.write(to: URL(fileURLWithPath: path))
            defer { unlink(path) }
            let listing = try await runPython("""
                import json, sys, zipfile
                z = zipfile.ZipFile(sys.argv[1])
                assert z.testzip() is None
                m = json.loads(z.read('manifest.json'))
                print(' '.join(sorted(z.namelist())), m['status'], len(m['items']))
                """, arguments: [path])
            #expect(listing == "\(id).mp3 \(id).srt \(id).vtt items/0-intro.wav items/1.wav manifest.json done 2")
        }
    }

    @Test func anItemIsRedoneAndOnlyTheJoinedFilesChange() async throws {
        try await TestGateway.run(upstream: .double(Self.fast())) { t in
            try await t.makeVoice("narrator")
            let r = try await Self.submit(t, ["voice": "narrator", "items": [["text": "Alpha."], ["text": "Beta."], ["text": "Gamma."]]])
            let id = try #require(r.json["id"] as? String)
            let before = Self.items(try await Self.job(t, id, becomes: "done"))
            let files = try await t.gateway.database.items(ofJob: id).map(\.fileName)
            let oldAudio = try await t.request(.GET, "/api/v1/jobs/\(id)/audio").body

            let redo = try await t.request(.POST, "/api/v1/jobs/\(id)/items/1/regenerate", headers: Self.jsonHeaders,
                                           body: Data(#"{"text": "Beta, said again and longer."}"#.utf8))
            #expect(redo.status == 200)
            let after = Self.items(try await Self.job(t, id, becomes: "done"))
            let newFiles = try await t.gateway.database.items(ofJob: id).map(\.fileName)
            #expect(newFiles[0] == files[0] && newFiles[2] == files[2] && newFiles[1] != files[1])
            #expect((after[1]["duration_ms"] as? Int ?? 0) > (before[1]["duration_ms"] as? Int ?? 0))
            #expect(after[1]["characters"] as? Int == "Beta, said again and longer.".count)
            #expect(try await t.request(.GET, "/api/v1/jobs/\(id)/audio").body != oldAudio)
            #expect(!FileManager.default.fileExists(atPath: t.gateway.jobFiles.path(id, files[1]!)))
            #expect(t.double?.recorder.stats.ttsRequests == 4)

            #expect(try await t.request(.POST, "/api/v1/jobs/\(id)/cancel").status == 409)
            #expect(try await t.request(.DELETE, "/api/v1/jobs/\(id)").status == 204)
            #expect(!FileManager.default.fileExists(atPath: t.gateway.jobFiles.folder(id)))
            #expect(try await t.request(.GET, "/api/v1/jobs/\(id)").status == 404)
        }
    }

    @Test func aCancelledJobStopsAndAnotherKeysJobIsNotFound() async throws {
        var slow = Self.fast()
        slow.inferenceDelay = .milliseconds(150)
        try await TestGateway.run(upstream: .double(slow)) { t in
            try await t.makeVoice("narrator", extra: ["shared": "true"])
            let other = try await t.makeKey("other")
            let r = try await Self.submit(t, ["voice": "narrator", "items": (0..<30).map { ["text": "Line \($0)."] }])
            let id = try #require(r.json["id"] as? String)
            #expect(await eventually { (try? await t.request(.GET, "/api/v1/jobs/\(id)").json["done"] as? Int ?? 0) ?? 0 >= 2 })
            #expect(try await t.request(.GET, "/api/v1/jobs/\(id)", key: other).status == 404)
            let othersList = try await t.request(.GET, "/api/v1/jobs", key: other).json["jobs"] as? [Any]
            #expect(othersList?.isEmpty == true)
            let cancel = try await t.request(.POST, "/api/v1/jobs/\(id)/cancel")
            #expect(cancel.status == 200 && cancel.json["status"] as? String == "cancelled")
            // The runner sees it at its next renewal and stops: no item is started after that.
            try await Task.sleep(for: .seconds(Double(JobRunner.renewEvery.components.seconds) + 1))
            let requests = t.double?.recorder.stats.ttsRequests ?? 0
            try await Task.sleep(for: .milliseconds(600))
            #expect(t.double?.recorder.stats.ttsRequests == requests && requests < 30)
            #expect(t.gateway.jobs.runningJobs.isEmpty)
            let job = try await t.request(.GET, "/api/v1/jobs/\(id)").json
            #expect(job["status"] as? String == "cancelled" && (job["reason"] as? String)?.contains("default") == true)
            let list = try await t.request(.GET, "/api/v1/jobs?status=cancelled").json["jobs"] as? [[String: Any]]
            #expect(list?.map { $0["id"] as? String } == [id])
        }
    }

    /// A long job of one key does not keep another key's job waiting: their items share the worker through the fair
    /// queue, one by one.
    @Test func anotherKeysShortJobFinishesWhileALongOneRuns() async throws {
        var slow = Self.fast()
        slow.inferenceDelay = .milliseconds(60)
        try await TestGateway.run(upstream: .double(slow)) { t in
            try await t.makeVoice("narrator", extra: ["shared": "true"])
            let other = try await t.makeKey("other")
            let long = try #require(try await Self.submit(t, ["voice": "narrator", "items": (0..<40).map { ["text": "Long line \($0)."] }])
                .json["id"] as? String)
            #expect(await eventually { (try? await t.request(.GET, "/api/v1/jobs/\(long)").json["done"] as? Int ?? 0) ?? 0 >= 1 })
            let short = try #require(try await Self.submit(t, ["voice": "narrator", "items": [["text": "Short one."], ["text": "Short two."]]],
                                                           key: other).json["id"] as? String)
            _ = try await Self.job(t, short, becomes: "done", timeout: 10)
            let longJob = try await t.request(.GET, "/api/v1/jobs/\(long)").json
            #expect(longJob["status"] as? String == "running" && (longJob["done"] as? Int ?? 0) < 20)
            #expect(t.double?.recorder.stats.maxOverlap == 1)
        }
    }

    @Test func badJobsAreRefusedWithTheirReason() async throws {
        try await TestGateway.run(upstream: .double(Self.fast()), env: ["JOB_MAX_ITEMS": "3", "JOB_MAX_CHARS": "100"]) { t in
            try await t.makeVoice("narrator")
            func code(_ body: [String: Any]) async throws -> String? {
                let r = try await Self.submit(t, body)
                #expect(r.status == 400)
                return r.json["error"] as? String
            }
            #expect(try await code(["text": "Hello."]) == "missing_voice")
            #expect(try await code(["voice": "narrator"]) == "missing_items")
            #expect(try await code(["voice": "narrator", "text": "Hi.", "items": [["text": "Hi."]]]) == "ambiguous_items")
            #expect(try await code(["voice": "nobody", "text": "Hello."]) == "unknown_voice")
            #expect(try await code(["voice": "narrator", "items": (0..<4).map { ["text": "Line \($0)."] }]) == "too_many_items")
            #expect(try await code(["voice": "narrator", "text": String(repeating: "Word. ", count: 30)]) == "too_many_characters")
            #expect(try await code(["voice": "narrator", "items": [["text": "  "]]]) == "empty_text")
            #expect(try await code(["voice": "narrator", "text": "Hi.", "format": "aac"]) == "unsupported_format")
            #expect(try await code(["voice": "narrator", "text": "Hi.", "pause_ms": -1]) == "invalid_pause")
            #expect(try await code(["voice": "narrator", "text": "Hi.", "split": "word"]) == "invalid_split")
            #expect(try await code(["voice": "narrator", "text": "Hi.", "language": ""]) == "unsupported_language")
            #expect(try await code(["voice": "narrator", "text": "Hi.", "language": "EN"]) == "unsupported_language")
            #expect(try await code(["voice": "narrator", "text": "Hi.", "fit": "tight"]) == "invalid_fit")
            #expect(try await code(["voice": "narrator", "text": "Hi.", "parallel": 0]) == "invalid_parallel")
            #expect(try await code(["voice": "narrator", "text": "Hi.", "parallel": 1.5]) == "invalid_parallel")
            #expect(try await code(["voice": "narrator", "text": "Hi.", "parallel": 9]) == "invalid_parallel")
            #expect(try await code(["voice": "narrator", "text": "Hi.", "callback_url": "ftp://example.com/x"]) == "invalid_callback_url")
            #expect(try await code(["voice": "narrator", "text": "Hi.", "callback_url": "http://127.0.0.1:9/x"]) == "invalid_callback_url")
            #expect(try await code(["voice": "narrator", "subtitles": "1\n00:00:01,000 --> soon\nHi.\n"]) == "invalid_subtitles")
            #expect(try await code(["voice": "narrator", "text": "Hi.", "colour": "blue"]) == "unknown_field")
            #expect(try await t.gateway.database.jobs(key: nil, status: nil, limit: 10).isEmpty)
            #expect(try await t.request(.GET, "/api/v1/jobs/not-a-job").status == 404)
            #expect(try await t.request(.GET, "/api/v1/jobs", key: nil).status == 401)
        }
    }

    @Test func aSubtitleFileFromAFormPlacesEachItemAtItsCueAndReportsDrift() async throws {
        try await TestGateway.run(upstream: .double(Self.fast())) { t in
            try await t.makeVoice("narrator")
            // 0.02 s a character: "A short one." is 240 ms; the long cue text overruns its 500 ms slot.
            let srt = """
                1
                00:00:01,000 --> 00:00:02,000
                A short one.

                2
                00:00:02,000 --> 00:00:02,500
                <i>This line is far too long for its cue.</i>

                3
                00:00:02,600 --> 00:00:04,000
                The last.

                """
            var form = Multipart()
            form.field("voice", "narrator")
            form.field("format", "flac")
            form.file("subtitles", Data(srt.utf8), filename: "dub.srt")
            let r = try await t.request(.POST, "/api/v1/jobs", headers: [("Content-Type", form.contentType)], body: form.body)
            #expect(r.status == 202)
            let id = try #require(r.json["id"] as? String)
            let job = try await Self.job(t, id, becomes: "done")
            #expect(job["kind"] as? String == "subtitles" && job["format"] as? String == "flac")
            let items = Self.items(job)
            let starts = items.compactMap { $0["start_ms"] as? Int }
            let durations = items.compactMap { $0["duration_ms"] as? Int }
            #expect(starts[0] == 1000 && starts[1] == 2000)
            // The second item runs past 2.6 s, so the third starts when it ends and says how late it is.
            #expect(starts[2] == 2000 + durations[1] && items[2]["drift_ms"] as? Int == starts[2] - 2600)
            let cues = try SubtitleFile.read([UInt8](try await t.request(.GET, "/api/v1/jobs/\(id)/subtitles.vtt").body), maxCues: 10).1
            #expect(cues.map(\.text) == ["A short one.", "This line is far too long for its cue.", "The last."])
            #expect(cues.map(\.start) == starts)
            let flac = try await t.request(.GET, "/api/v1/jobs/\(id)/audio")
            #expect(flac.status == 200 && flac.body.starts(with: Array("fLaC".utf8)))
        }
    }

    @Test func fitSpeedSpeedsAnOverlongItemUpToMaxSpeed() async throws {
        try await TestGateway.run(upstream: .double(Self.fast())) { t in
            try await t.makeVoice("narrator")
            // Two cues too short for their text: the first fits at a speed within max_speed, the second would need more
            // and is spoken at max_speed (later cues then move back).
            let vtt = "WEBVTT\n\n00:00.000 --> 00:01.000\nThirty characters, just these.\n\n00:02.000 --> 00:02.100\nThirty characters, once again.\n"
            let r = try await Self.submit(t, ["voice": "narrator", "subtitles": vtt, "fit": "speed", "max_speed": 1.5])
            let id = try #require(r.json["id"] as? String)
            let job = try await Self.job(t, id, becomes: "done")
            let durations = Self.items(job).compactMap { $0["duration_ms"] as? Int }
            let speeds = t.double?.recorder.stats.bodies.compactMap { $0["speed_factor"]?.number } ?? []
            #expect(speeds.count == 4 && speeds[0] == 1 && speeds[2] == 1)
            // The double's tone follows the speed, its trailing silence (fragment_interval) does not.
            #expect(abs(speeds[1] - 1.16) < 0.01)
            #expect(speeds[3] == 1.5 && durations[0] < 1160 && durations[1] < 1160)
        }
    }

    @Test func aSpentQuotaPausesTheJobAndSaysWhy() async throws {
        try await TestGateway.run(upstream: .double(Self.fast())) { t in
            try await t.makeVoice("narrator", extra: ["shared": "true"])
            let key = try await t.makeKey("small", limits: ["characters_per_day": 25])
            let r = try await Self.submit(t, ["voice": "narrator", "items": [["text": "Ten chars."], ["text": "Ten chars."], ["text": "Ten chars."]]],
                                          key: key)
            let id = try #require(r.json["id"] as? String)
            let job = try await Self.job(t, id, becomes: "paused")
            #expect((job["reason"] as? String)?.contains("quota") == true)
            #expect(job["done"] as? Int == 2 && Self.items(job)[2]["status"] as? String == "pending")
            #expect(t.double?.recorder.stats.ttsRequests == 2)
        }
    }

    /// The job's end is POSTed to its callback_url, signed with HMAC-SHA256 under the hex SHA-256 of the key, and
    /// tried again when the receiver fails.
    @Test func theCallbackIsSignedWithTheKeysSecretAndRetried() async throws {
        let received = Mutex<[(signature: String?, event: String?, body: Data)]>([])
        let router = Router()
        router.post("hook") { request, _ -> Response in
            let body = try await request.body.collect(upTo: 1 << 20)
            let count = received.withLock {
                $0.append((request.headers[HTTPField.Name("X-VoiceGate-Signature")!], request.headers[HTTPField.Name("X-VoiceGate-Event")!],
                           Data(buffer: body)))
                return $0.count
            }
            return Response(status: count == 1 ? .internalServerError : .ok)
        }
        let port = PortPromise()
        let receiver = Application(router: router, configuration: .init(address: .hostname("127.0.0.1", port: 0)),
                                   onServerRunning: { port.fulfil($0.localAddress!.port!) },
                                   logger: Logger(label: "quiet") { _ in SwiftLogNoOpLogHandler() })
        let group = ServiceGroup(configuration: .init(services: [receiver], logger: Logger(label: "quiet") { _ in SwiftLogNoOpLogHandler() }))
        let running = Task { try await group.run() }
        defer { running.cancel() }
        let hook = "http://127.0.0.1:\(await port.value())/hook"
        try await TestGateway.run(upstream: .double(Self.fast()), env: ["JOB_CALLBACK_HOSTS": "127.0.0.1"]) { t in
            try await t.makeVoice("narrator")
            let r = try await Self.submit(t, ["voice": "narrator", "items": [["text": "Call me back."]], "callback_url": hook])
            #expect(r.status == 202)
            let id = try #require(r.json["id"] as? String)
            #expect(await eventually(timeout: 10) { received.withLock { $0.count } == 2 })
            let calls = received.withLock { $0 }
            let secret = SHA256.hash(data: Data(TestGateway.apiKey.utf8)).map { String(format: "%02x", $0) }.joined()
            for call in calls {
                let mac = HMAC<SHA256>.authenticationCode(for: call.body, using: SymmetricKey(data: Data(secret.utf8)))
                #expect(call.signature == "sha256=" + mac.map { String(format: "%02x", $0) }.joined())
                #expect(call.event == "job.done")
            }
            let job = try JSONSerialization.jsonObject(with: try #require(calls.last?.body)) as? [String: Any]
            #expect(job?["id"] as? String == id && job?["status"] as? String == "done" && (job?["items"] as? [Any])?.count == 1)
        }
        await group.triggerGracefulShutdown()
    }

    /// The gateway running a job stops (as for an upgrade); one started on the same store resumes it and redoes
    /// nothing finished: the two doubles together synthesize each item once (twice for an item cut off as it ran).
    @Test func aJobResumesOnTheNextGatewayWithoutRedoingFinishedItems() async throws {
        let dataDir = TestGateway.makeDataDir()
        defer { try? FileManager.default.removeItem(atPath: dataDir) }
        var slow = Self.fast()
        slow.inferenceDelay = .milliseconds(200)
        let submitted = Recorded<String>()
        let before = Recorded<[String?]>()
        let doubles = Recorded<SovitsDouble>()
        try await TestGateway.run(upstream: .double(slow), dataDir: dataDir) { t in
            try await t.makeVoice("narrator")
            let r = try await Self.submit(t, ["voice": "narrator", "items": (0..<8).map { ["text": "Sentence number \($0)."] }])
            let id = try #require(r.json["id"] as? String)
            submitted.append(id)
            doubles.append(try #require(t.double))
            #expect(await eventually(timeout: 10) { (try? await t.gateway.database.items(ofJob: id).count { $0.status == .done }) ?? 0 >= 3 })
            before.append(try await t.gateway.database.items(ofJob: id).map(\.fileName))
        }
        let id = try #require(submitted.values.first)
        let finishedBefore = try #require(before.values.first).compactMap { $0 }
        let first = try #require(doubles.values.first).recorder.stats.ttsRequests
        #expect(first < 8)
        try await TestGateway.run(upstream: .double(Self.fast()), dataDir: dataDir) { t in
            let job = try await Self.job(t, id, becomes: "done")
            #expect(job["done"] as? Int == 8)
            let files = try await t.gateway.database.items(ofJob: id).map(\.fileName)
            #expect(Array(files.prefix(finishedBefore.count)).compactMap { $0 } == finishedBefore)
            let second = t.double?.recorder.stats.ttsRequests ?? 0
            #expect(second > 0 && (8...9).contains(first + second))
            #expect(try await t.request(.GET, "/api/v1/jobs/\(id)/audio").status == 200)
        }
    }
}

/// Runs a Python script with `python3` and returns what it printed, trimmed; waited for on NIO's thread pool, not on
/// one of the few threads Swift concurrency has.
func runPython(_ script: String, arguments: [String] = []) async throws -> String {
    try await NIOThreadPool.singleton.runIfActive { try runPythonBlocking(script, arguments: arguments) }
}

private func runPythonBlocking(_ script: String, arguments: [String]) throws -> String {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    process.arguments = ["python3", "-c", script] + arguments
    let out = Pipe()
    process.standardOutput = out
    try process.run()
    let data = out.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    guard process.terminationStatus == 0 else { throw TestFailure("python3 exited \(process.terminationStatus)") }
    return String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
}
