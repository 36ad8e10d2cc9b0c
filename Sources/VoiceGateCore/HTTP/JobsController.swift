import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import NIOPosix

/// Long-form and batch jobs under the prefix: submit, follow (JSON or server-sent events), fetch what is finished
/// (joined audio, subtitles, an item, a zip of everything), redo an item, cancel, delete. A key sees its own jobs;
/// an admin every key's.
struct JobsController {
    let store: any JobStore
    let voices: VoiceLibrary
    let files: JobFiles
    let limits: JobSubmission.Limits
    let callbacks: JobCallbacks
    let control: JobControl
    let wake: @Sendable () -> Void
    /// How often the events stream looks at the store (any gateway may be running the job).
    static let eventsPoll: Duration = .milliseconds(250)
    static let maxFormBytes = 16 * 1024 * 1024

    struct ItemJSON: Encodable {
        let index: Int
        let id: String?
        let characters: Int
        let status: String
        let duration_ms: Int?
        let start_ms: Int?
        let drift_ms: Int?
        let error: String?
    }

    struct JobJSON: ResponseEncodable {
        let id: String
        let status: String
        let reason: String?
        let key: String
        let voice: String
        let format: String
        let kind: String
        let parallel: Int
        let total: Int
        /// Counted from the items, which a list leaves out.
        let done: Int?
        let failed: Int?
        let audio_seconds: Double?
        let eta_seconds: Double?
        let created_at: String
        let finished_at: String?
        let runner: String?
        let items: [ItemJSON]?
    }

    struct Submitted: ResponseEncodable {
        let id: String
        let status: String
        let total: Int
    }

    struct JobList: ResponseEncodable {
        let jobs: [JobJSON]
    }

    func addRoutes(to group: RouterGroup<GatewayRequestContext>) {
        group.post("jobs") { request, context -> EditedResponse<Submitted> in
            let job = try await submit(request, context: context)
            return EditedResponse(status: .accepted, headers: [.location: "jobs/\(job.id)"],
                                  response: Submitted(id: job.id, status: job.status.rawValue, total: job.total))
        }
        group.get("jobs") { request, context -> JobList in
            guard let caller = context.caller else { throw GatewayError.unauthorized }
            let query = request.uri.queryParameters
            if let unknown = query.map({ String($0.key) }).first(where: { !["key", "status", "limit"].contains($0) }) {
                throw GatewayError.invalid("unknown_parameter", "\(unknown) is not a jobs parameter (known: key, status, limit)")
            }
            var key: String? = caller.name
            if caller.isAdmin { key = query["key"].map(String.init) }
            let status = try query["status"].map { raw in
                guard let status = JobRecord.Status(rawValue: String(raw)) else {
                    throw GatewayError.invalid("invalid_status", "status must be one of \(JobRecord.Status.allCases.map(\.rawValue).joined(separator: ", "))",
                                               param: "status")
                }
                return status
            }
            let limit = try query["limit"].map { raw in
                guard let n = Int(String(raw)), (1...500).contains(n) else {
                    throw GatewayError.invalid("invalid_limit", "limit must be a whole number from 1 to 500", param: "limit")
                }
                return n
            } ?? 100
            let jobs = try await store.jobs(key: key, status: status, limit: limit)
            return JobList(jobs: jobs.map { Self.json(JobResults(job: $0, items: []), withItems: false, counts: false) })
        }
        group.get("jobs/:id") { _, context -> JobJSON in
            Self.json(try await results(context), withItems: true)
        }
        group.get("jobs/:id/events") { _, context -> Response in
            try await events(context)
        }
        group.get("jobs/:id/audio") { _, context -> Response in
            let results = try await results(context)
            let path = try await NIOThreadPool.singleton.runIfActive { try results.joinedAudio(in: files) }
            guard let path else { throw Self.nothingYet(results.job) }
            let format = results.job.settings.format
            return try file(path, type: format.contentType(sampleRate: 32000), name: "\(results.job.id).\(format.fileExtension)")
        }
        for format in SubtitleFile.Format.allCases {
            group.get("jobs/:id/subtitles.\(format.rawValue)") { _, context -> Response in
                let results = try await results(context)
                guard !results.finished.isEmpty else { throw Self.nothingYet(results.job) }
                var headers = HTTPFields()
                headers[.contentType] = format == .srt ? "application/x-subrip; charset=utf-8" : "text/vtt; charset=utf-8"
                headers[.contentDisposition] = "attachment; filename=\"\(results.job.id).\(format.rawValue)\""
                return Response(status: .ok, headers: headers, body: .init(byteBuffer: ByteBuffer(string: results.subtitles(format))))
            }
        }
        group.get("jobs/:id/items/:n/audio") { _, context -> Response in
            let results = try await results(context)
            let item = try Self.item(context, in: results)
            guard item.status == .done, let fileName = item.fileName else {
                throw GatewayError(409, "item_not_ready", "item \(item.index) is \(item.status.rawValue)\(item.error.map { ": \($0)" } ?? "")")
            }
            return try file(files.path(results.job.id, fileName), type: "audio/wav", name: "\(results.job.id)-\(item.index).wav")
        }
        group.get("jobs/:id/archive.zip") { _, context -> Response in
            let results = try await results(context)
            guard !results.finished.isEmpty else { throw Self.nothingYet(results.job) }
            let manifest = try Self.encoder.encode(Self.json(results, withItems: true))
            let path = try await NIOThreadPool.singleton.runIfActive { try JobArchive.build(results, files: files, manifest: [UInt8](manifest)) }
            defer { unlink(path) }
            return try file(path, type: "application/zip", name: "\(results.job.id).zip")
        }
        group.post("jobs/:id/items/:n/regenerate") { request, context -> JobJSON in
            try await regenerate(request, context: context)
        }
        group.post("jobs/:id/cancel") { _, context -> JobJSON in
            let caller = try Self.caller(context)
            let job = try await job(context)
            guard try await control.cancel(job.id, by: "key \(caller.name)") else {
                throw GatewayError(409, "job_finished", "job \(job.id) is \(job.status.rawValue) already")
            }
            return Self.json(try await results(context), withItems: false)
        }
        group.delete("jobs/:id") { _, context -> Response in
            let job = try await job(context)
            _ = try await store.deleteJob(job.id)
            files.remove(job.id)
            return Response(status: .noContent)
        }
    }

    // MARK: Submitting

    private func submit(_ request: Request, context: GatewayRequestContext) async throws -> JobRecord {
        let caller = try Self.caller(context)
        let submission: JobSubmission
        let contentType = request.headers[.contentType] ?? ""
        let maxBytes = limits.maxCharacters * 4 + limits.maxItems * 256 + 64 * 1024
        if contentType.lowercased().hasPrefix("multipart/") {
            let boundary = try SynthesizeController.boundary(contentType)
            let body = try await Self.collect(request, upTo: min(Self.maxFormBytes, maxBytes))
            submission = try Self.submission(form: try FormFields(body, boundary: boundary, allowed: Self.formFields))
        } else {
            let body = try await Self.collect(request, upTo: maxBytes)
            submission = try Self.submission(json: try JSONBody(Data(body.readableBytesView)))
        }
        let (job, items) = try submission.job(id: JobFiles.makeID(), key: caller.name, limits: limits, now: Date(),
                                              callbackRefusal: callbacks.refusal)
        // A voice the key cannot use fails now, not at the first item.
        _ = try await voices.resolve(job.voice, for: caller)
        try await store.insertJob(job, items: items)
        wake()
        return job
    }

    static let fields: Set<String> = ["voice", "items", "text", "split", "format", "pause_ms", "language", "speed", "temperature", "seed",
                                      "callback_url", "fit", "max_speed", "parallel"]

    /// A form sends a subtitles file (JSON sends items or a text).
    static let formFields = fields.subtracting(["items", "text", "split"]).union(["subtitles"])

    private static func collect(_ request: Request, upTo maxBytes: Int) async throws -> ByteBuffer {
        do {
            return try await request.body.collect(upTo: maxBytes)
        } catch let error as HTTPError where error.status == .contentTooLarge {
            throw GatewayError(413, "body_too_large", "a job's body may be at most \(maxBytes) bytes (JOB_MAX_CHARS, JOB_MAX_ITEMS)")
        }
    }

    static func submission(json body: JSONBody) throws -> JobSubmission {
        try body.rejectUnknown(allowed: fields.union(["subtitles"]))
        var s = JobSubmission()
        s.voice = try body.string("voice")
        s.text = try body.string("text")
        s.split = try body.string("split")
        s.subtitles = try body.string("subtitles").map { Array($0.utf8) }
        s.format = try body.string("format")
        s.pauseMs = try body.number("pause_ms")
        s.language = try body.optionalString("language")
        s.speed = try body.number("speed")
        s.temperature = try body.number("temperature")
        s.seed = try body.number("seed")
        s.callbackURL = try body.optionalString("callback_url")
        s.fit = try body.string("fit")
        s.maxSpeed = try body.number("max_speed")
        s.parallel = try body.number("parallel")
        if let raw = body.fields["items"] {
            guard let list = raw as? [Any] else {
                throw GatewayError.invalid("invalid_field", "items must be a list of {\"text\": ..., \"id\": optional}", param: "items")
            }
            s.items = try list.enumerated().map { index, element in
                guard let object = element as? [String: Any], let text = object["text"] as? String,
                      object["id"] == nil || object["id"] is String || object["id"] is NSNull,
                      Set(object.keys).isSubset(of: ["text", "id"]) else {
                    throw GatewayError.invalid("invalid_item", "item \(index) must be {\"text\": string, \"id\": optional string}",
                                               details: ["item": .int(index)], param: "items")
                }
                return JobSubmission.Item(text: text, id: object["id"] as? String)
            }
        }
        return s
    }

    static func submission(form: FormFields) throws -> JobSubmission {
        func number(_ name: String) throws -> Double? {
            guard let raw = try form.string(name)?.trimmed, !raw.isEmpty else { return nil }
            guard let value = Double(raw), value.isFinite else {
                throw GatewayError.invalid("invalid_field", "\(name) must be a number: \(raw.prefix(40))", param: name)
            }
            return value
        }
        var s = JobSubmission()
        s.voice = try form.string("voice")
        s.subtitles = form.values["subtitles"]
        s.format = try form.string("format")
        s.pauseMs = try number("pause_ms")
        s.language = try form.string("language")
        s.speed = try number("speed")
        s.temperature = try number("temperature")
        s.seed = try number("seed")
        s.callbackURL = try form.string("callback_url")
        s.fit = try form.string("fit")
        s.maxSpeed = try number("max_speed")
        s.parallel = try number("parallel")
        return s
    }

    // MARK: Following

    private func events(_ context: GatewayRequestContext) async throws -> Response {
        let first = try await results(context)
        var headers = HTTPFields()
        headers[.contentType] = "text/event-stream"
        headers[.cacheControl] = "no-cache"
        let (store, id) = (store, first.job.id)
        return Response(status: .ok, headers: headers, body: ResponseBody { [self] writer in
            var seen: [Int: JobItemRecord.Status] = [:]
            var status: JobRecord.Status?
            var current = first
            var quiet = ContinuousClock.now
            while true {
                for item in current.items where item.status != .pending && seen[item.index] != item.status {
                    seen[item.index] = item.status
                    try await writer.write(Self.event("item", Self.itemEvent(item, in: current)))
                    quiet = .now
                }
                if current.job.status != status {
                    status = current.job.status
                    try await writer.write(Self.event("job", Self.json(current, withItems: false)))
                    quiet = .now
                    if !JobRecord.Status.open.contains(current.job.status) { break }
                }
                if ContinuousClock.now - quiet > .seconds(15) {
                    try await writer.write(ByteBuffer(string: ": still working\n\n"))
                    quiet = .now
                }
                try await Task.sleep(for: Self.eventsPoll)
                do {
                    // Deleted meanwhile: the stream ends; the store away for a moment: it looks again.
                    guard let job = try await store.job(id: id) else { break }
                    current = JobResults(job: job, items: try await store.items(ofJob: id))
                } catch {
                    continue
                }
            }
            try await writer.finish(nil)
        })
    }

    struct ItemEvent: Encodable {
        let item: ItemJSON
        let done: Int
        let failed: Int
        let total: Int
        let audio_seconds: Double
    }

    static func itemEvent(_ item: JobItemRecord, in results: JobResults) -> ItemEvent {
        ItemEvent(item: itemJSON(item, results.placementByIndex[item.index]), done: results.doneCount, failed: results.failedCount,
                  total: results.items.count, audio_seconds: Double(results.audioMs) / 1000)
    }

    static let encoder: JSONEncoder = {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return encoder
    }()

    static func event(_ name: String, _ value: some Encodable) -> ByteBuffer {
        let data = (try? encoder.encode(value)) ?? Data("{}".utf8)
        return ByteBuffer(string: "event: \(name)\ndata: \(String(decoding: data, as: UTF8.self))\n\n")
    }

    // MARK: Redoing

    private func regenerate(_ request: Request, context: GatewayRequestContext) async throws -> JobJSON {
        let results = try await results(context)
        let item = try Self.item(context, in: results)
        var newText: String?
        let body = try await request.body.collect(upTo: JSONBody.maxBytes)
        if body.readableBytes > 0 {
            let json = try JSONBody(Data(body.readableBytesView))
            try json.rejectUnknown(allowed: ["text"])
            if let text = try json.string("text") {
                guard !text.isBlank, text.count <= SynthesisFields.maxTextLength else {
                    throw GatewayError.invalid("invalid_text", "text must be 1-\(SynthesisFields.maxTextLength) characters, not only white space",
                                               param: "text")
                }
                let total = results.items.reduce(0) { $0 + ($1.index == item.index ? 0 : $1.text.count) } + text.count
                guard total <= limits.maxCharacters else {
                    throw GatewayError.invalid("too_many_characters", "the job would have \(total) characters; at most \(limits.maxCharacters) (JOB_MAX_CHARS)")
                }
                newText = text
            }
        }
        try await control.regenerate(results.job, item: item, text: newText)
        return Self.json(try await self.results(context), withItems: true)
    }

    // MARK: Shared

    private static func caller(_ context: GatewayRequestContext) throws -> KeyRecord {
        guard let caller = context.caller else { throw GatewayError.unauthorized }
        return caller
    }

    /// The job named in the path, if the caller may see it (another key's job is "not found", as if absent).
    private func job(_ context: GatewayRequestContext) async throws -> JobRecord {
        let caller = try Self.caller(context)
        let id = context.parameters.get("id") ?? ""
        guard JobFiles.isValidID(id), let job = try await store.job(id: id), caller.isAdmin || job.key == caller.name else {
            throw GatewayError(404, "job_not_found", "no job \(id.prefix(40)) for this key")
        }
        return job
    }

    private func results(_ context: GatewayRequestContext) async throws -> JobResults {
        let job = try await job(context)
        return JobResults(job: job, items: try await store.items(ofJob: job.id))
    }

    private static func item(_ context: GatewayRequestContext, in results: JobResults) throws -> JobItemRecord {
        guard let n = context.parameters.get("n").flatMap({ Int($0) }), let item = results.items.first(where: { $0.index == n }) else {
            throw GatewayError(404, "item_not_found", "job \(results.job.id) has items 0 to \(results.items.count - 1)")
        }
        return item
    }

    private static func nothingYet(_ job: JobRecord) -> GatewayError {
        GatewayError(409, "job_not_ready", "job \(job.id) has no finished item yet (\(job.status.rawValue))", retryAfter: 5)
    }

    /// A file of the jobs folder, opened now (so a file replaced or removed meanwhile is still served whole) and
    /// read in blocks on NIO's thread pool as the client takes them.
    private func file(_ path: String, type: String, name: String) throws -> Response {
        guard let handle = FileHandle(forReadingAtPath: path) else {
            throw GatewayError(503, "job_file_missing", "the job's audio is missing from this gateway's jobs folder; gateways sharing a store must share JOBS_DIR",
                               retryAfter: 30)
        }
        var info = stat()
        let size = fstat(handle.fileDescriptor, &info) == 0 ? Int(info.st_size) : nil
        var headers = HTTPFields()
        headers[.contentType] = type
        headers[.contentDisposition] = "attachment; filename=\"\(name)\""
        if let size { headers[.contentLength] = String(size) }
        let file = SendableFileHandle(handle: handle)
        return Response(status: .ok, headers: headers, body: ResponseBody { writer in
            defer { try? file.handle.close() }
            while let data = try await NIOThreadPool.singleton.runIfActive({ try file.handle.read(upToCount: 128 * 1024) }), !data.isEmpty {
                try await writer.write(ByteBuffer(data: data))
            }
            try await writer.finish(nil)
        })
    }

    static func json(_ results: JobResults, withItems: Bool, counts: Bool = true) -> JobJSON {
        let job = results.job
        let formatter = ISO8601DateFormatter()
        let placements = withItems ? results.placementByIndex : [:]
        return JobJSON(id: job.id, status: job.status.rawValue, reason: job.reason, key: job.key, voice: job.voice,
                       format: job.settings.format.rawValue, kind: job.subtitles ? "subtitles" : "text",
                       parallel: job.settings.parallel, total: job.total,
                       done: counts ? results.doneCount : nil, failed: counts ? results.failedCount : nil,
                       audio_seconds: counts ? Double(results.audioMs) / 1000 : nil, eta_seconds: counts ? results.etaSeconds(now: Date()) : nil,
                       created_at: formatter.string(from: job.createdAt), finished_at: job.finishedAt.map(formatter.string),
                       runner: job.runner, items: withItems ? results.items.map { Self.itemJSON($0, placements[$0.index]) } : nil)
    }

    static func itemJSON(_ item: JobItemRecord, _ placement: JobTimeline.Placement?) -> ItemJSON {
        ItemJSON(index: item.index, id: item.clientID, characters: item.text.count, status: item.status.rawValue, duration_ms: item.durationMs,
                 start_ms: placement?.start, drift_ms: placement?.drift, error: item.error)
    }
}

/// A file handle read by one response at a time.
private struct SendableFileHandle: @unchecked Sendable {
    let handle: FileHandle
}
