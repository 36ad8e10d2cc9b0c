import ArgumentParser
import Foundation
import NIOCore
import VoiceGateCore

/// `voicegate jobs ...`: long-form jobs on a running gateway, over its HTTP API.
struct JobsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "jobs",
        abstract: "Submit, follow, fetch and cancel long-form jobs on a running gateway (over HTTP).",
        subcommands: [Submit.self, List.self, Get.self, Cancel.self]
    )

    struct Connection: ParsableArguments {
        @Option(help: "The gateway's URL (default: VOICEGATE_URL, else http://127.0.0.1:8000).") var url: String?
        @Option(help: "An API key (default: VOICEGATE_KEY).") var key: String?
    }

    struct Submit: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Submit a text (.txt: split by sentence or paragraph) or a subtitle file (.srt, .vtt), wait with a progress bar, save the results.")
        @Argument(help: "A .txt, .srt or .vtt file.") var file: String
        @Option(help: "A saved voice.") var voice: String
        @Option(help: "wav, mp3, opus or flac.") var format: String?
        @Option(help: "Silence between two items of a text, in milliseconds (default 300).") var pauseMs: Int?
        @Option(help: "sentence or paragraph (text files).") var split: String?
        @Option(help: "The text's language (zh, en, ja, ko, yue, auto, ...).") var language: String?
        @Option(help: "Speaking speed, 0.5-2.") var speed: Double?
        @Option(help: "Subtitle files: push (later cues move back) or speed (speak faster, up to 1.2x, first).") var fit: String?
        @Option(help: "Items run at once, 1-8 (default 1; up to the number of GPU workers makes a job finish sooner).") var parallel: Int?
        @Option(help: "Where the results go (default: the current folder).") var out = "."
        @Flag(help: "Print the job's id and return at once.") var noWait = false
        @OptionGroup var connection: Connection

        func run() async throws {
            guard let data = FileManager.default.contents(atPath: file) else { throw JobsAPI.Failure(description: "cannot read \(file)") }
            let ext = (file as NSString).pathExtension.lowercased()
            var fields: [String: Any] = ["voice": voice]
            if let format { fields["format"] = format }
            if let pauseMs { fields["pause_ms"] = pauseMs }
            if let language { fields["language"] = language }
            if let speed { fields["speed"] = speed }
            if let fit { fields["fit"] = fit }
            if let parallel { fields["parallel"] = parallel }
            if ext == "srt" || ext == "vtt" {
                fields["subtitles"] = String(decoding: data, as: UTF8.self)
            } else {
                guard let text = String(data: data, encoding: .utf8) else { throw JobsAPI.Failure(description: "\(file) is not UTF-8 text") }
                fields["text"] = text
                fields["split"] = split ?? "sentence"
            }
            try await JobsAPI.with(url: connection.url, key: connection.key) { api in
                let body = try JSONSerialization.data(withJSONObject: fields)
                let answer = try await api.call(.POST, "jobs", body: ByteBuffer(data: body), contentType: "application/json")
                guard answer.status == 202, let id = answer.json["id"] as? String else {
                    throw JobsAPI.Failure(description: "the job was refused: \(answer.problem)")
                }
                if noWait {
                    print(id)
                    return
                }
                FileHandle.standardError.write(Data("job \(id): \(answer.json["total"] as? Int ?? 0) items\n".utf8))
                let job = try await JobsCommand.follow(id, api: api)
                let name = ((file as NSString).lastPathComponent as NSString).deletingPathExtension
                try await JobsCommand.save(id, job: job, api: api, folder: out, name: name)
                if job["status"] as? String != "done" { throw ExitCode(1) }
            }
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Jobs, newest first (an admin key sees every key's).")
        @Option(help: "Only jobs in this status (queued, running, paused, done, failed, cancelled).") var status: String?
        @OptionGroup var connection: Connection

        func run() async throws {
            try await JobsAPI.with(url: connection.url, key: connection.key) { api in
                let answer = try await api.call(.GET, "jobs" + (status.map { "?status=\($0)" } ?? ""))
                guard answer.status == 200, let jobs = answer.json["jobs"] as? [[String: Any]] else { throw JobsAPI.Failure(description: answer.problem) }
                TextTable.print([["ID", "STATUS", "ITEMS", "KEY", "VOICE", "FORMAT", "CREATED"]] + jobs.map { job in
                    [job["id"] as? String ?? "", job["status"] as? String ?? "", String(job["total"] as? Int ?? 0), job["key"] as? String ?? "",
                     job["voice"] as? String ?? "", job["format"] as? String ?? "", job["created_at"] as? String ?? ""]
                })
            }
        }
    }

    struct Get: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "A job's progress; with --out, save what is finished (audio and subtitles).")
        @Argument(help: "The job's id.") var id: String
        @Option(help: "Save the results in this folder.") var out: String?
        @OptionGroup var connection: Connection

        func run() async throws {
            try await JobsAPI.with(url: connection.url, key: connection.key) { api in
                let answer = try await api.call(.GET, "jobs/\(id)")
                guard answer.status == 200 else { throw JobsAPI.Failure(description: answer.problem) }
                let job = answer.json
                print("\(id): \(job["status"] as? String ?? "?")\((job["reason"] as? String).map { " (\($0))" } ?? "")")
                print(JobsCommand.progress(job).line())
                if let out { try await JobsCommand.save(id, job: job, api: api, folder: out, name: id) }
            }
        }
    }

    struct Cancel: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Cancel a job (its running item stops within seconds).")
        @Argument(help: "The job's id.") var id: String
        @OptionGroup var connection: Connection

        func run() async throws {
            try await JobsAPI.with(url: connection.url, key: connection.key) { api in
                let answer = try await api.call(.POST, "jobs/\(id)/cancel")
                guard answer.status == 200 else { throw JobsAPI.Failure(description: answer.problem) }
                print("\(id): cancelled")
            }
        }
    }

    static func progress(_ job: [String: Any]) -> JobProgress {
        JobProgress(done: job["done"] as? Int ?? 0, failed: job["failed"] as? Int ?? 0, total: job["total"] as? Int ?? 0,
                    audioSeconds: job["audio_seconds"] as? Double ?? 0, etaSeconds: job["eta_seconds"] as? Double,
                    status: job["status"] as? String ?? "")
    }

    /// Polls the job once a second, redrawing its progress line on stderr, until it ends.
    static func follow(_ id: String, api: JobsAPI) async throws -> [String: Any] {
        let open: Set<String> = ["queued", "running", "paused"]
        while true {
            let answer = try await api.call(.GET, "jobs/\(id)")
            guard answer.status == 200 else { throw JobsAPI.Failure(description: answer.problem) }
            let job = answer.json
            FileHandle.standardError.write(Data(("\r" + progress(job).line() + "\u{1B}[K").utf8))
            if !open.contains(job["status"] as? String ?? "") {
                FileHandle.standardError.write(Data("\n".utf8))
                return job
            }
            try await Task.sleep(for: .seconds(1))
        }
    }

    /// The joined audio and both subtitle files in `folder`, named `name.EXT`; prints each path.
    static func save(_ id: String, job: [String: Any], api: JobsAPI, folder: String, name: String) async throws {
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        let format = job["format"] as? String ?? "wav"
        var saved: [String] = []
        for (path, ext) in [("audio", format), ("subtitles.srt", "srt"), ("subtitles.vtt", "vtt")] {
            let destination = (folder as NSString).appendingPathComponent("\(name).\(ext)")
            if try await api.download("jobs/\(id)/\(path)", to: destination) { saved.append(destination) }
        }
        if saved.isEmpty { print("\(id): nothing finished yet") }
        for path in saved { print(path) }
        if let reason = job["reason"] as? String { FileHandle.standardError.write(Data("\(id): \(reason)\n".utf8)) }
    }
}
