import Foundation
import Hummingbird
import NIOCore
import Synchronization
import VoiceGateCore

/// An in-process GPT-SoVITS `api_v2.py` that follows `gpt-sovits-api.md`, quirks included:
/// 400 for every failure inside synthesis, 422 for nulls, one second of 16 kHz silence when "inference"
/// fails, non-streaming requests served strictly one at a time, streams whose WAV header says size 0.
///
/// Text markers drive the failure paths: `[oom]` answers the 16 kHz silence, `[crash]` a generic
/// "tts failed", `[cut]` ends a stream without its terminating chunk, `[hang]` does not answer for `hangDuration`,
/// `[hold]` waits until `hold` is released (at most a minute).
public struct SovitsDouble: Sendable {
    public let options: SovitsDoubleOptions
    public let recorder: SovitsDoubleRecorder
    public let hold = SovitsDoubleHold()
    /// The event loop of api_v2 runs one non-streaming synthesis at a time.
    private let eventLoop = AsyncSerialGate()

    public init(options: SovitsDoubleOptions = .init()) {
        self.options = options
        recorder = SovitsDoubleRecorder(keepsRecords: options.keepsRecords)
    }

    public func makeRouter() -> Router<BasicRequestContext> {
        let router = Router()
        router.get("openapi.json") { _, _ in
            recorder.probe()
            return Response(status: .ok, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(string: Self.openAPI)))
        }
        router.post("tts") { request, context in try await tts(request, context: context) }
        router.get("set_gpt_weights") { request, _ in try await setWeights(request, kind: "gpt") }
        router.get("set_sovits_weights") { request, _ in try await setWeights(request, kind: "sovits") }
        router.get("tts") { _, _ in
            // GET without text_lang/prompt_lang is a 500 in plain text upstream; the gateway must use POST.
            recorder.violation("GET /tts used")
            return Response(status: .internalServerError, headers: [.contentType: "text/plain"], body: .init(byteBuffer: ByteBuffer(string: "Internal Server Error")))
        }
        return router
    }

    static let openAPI = #"{"openapi":"3.1.0","info":{"title":"FastAPI","version":"0.1.0"},"paths":{"/control":{},"/tts":{},"/set_refer_audio":{},"/set_gpt_weights":{},"/set_sovits_weights":{}}}"#

    func tts(_ request: Request, context: BasicRequestContext) async throws -> Response {
        let data = try await request.body.collect(upTo: 1 << 20)
        guard let body = try? JSONDecoder().decode([String: JSONAny].self, from: Data(buffer: data)) else {
            return Self.json(422, #"{"detail":[{"type":"json_invalid","loc":["body"],"msg":"JSON decode error","input":{}}]}"#)
        }
        let job = recorder.begin(body)
        var ended = false
        defer { if !ended { recorder.end(job) } }
        if let field = body.first(where: { $0.value == .null })?.key {
            return Self.json(422, #"{"detail":[{"type":"string_type","loc":["body","\#(field)"],"msg":"Input should be a valid string","input":null}]}"#)
        }
        if let failure = validate(body) { return failure }
        let streaming = body["streaming_mode"]?.bool == true || (body["streaming_mode"]?.number ?? 0) > 0
        if streaming {
            // The request runs until its body has been written, not until the handler returns its headers.
            ended = true
            return try await synthesizeStream(body, job: job)
        }
        return try await eventLoop.run { try await synthesizeWhole(body) }
    }

    /// `/set_gpt_weights` and `/set_sovits_weights`: global, blocking the server while the weights load, with
    /// api_v2's answers (`{"message": "success"}`, 400 for a missing path or a file it cannot load).
    func setWeights(_ request: Request, kind: String) async throws -> Response {
        guard let path = request.uri.queryParameters.get("weights_path"), !path.isEmpty else {
            return Self.json(400, #"{"message":"\#(kind) weight path is required"}"#)
        }
        return try await eventLoop.run {
            if path.contains("missing") {
                return Self.json(400, #"{"message":"change \#(kind) weight failed","Exception":"FileNotFoundError: \#(path)"}"#)
            }
            try await Task.sleep(for: options.switchDelay)
            recorder.load(kind: kind, path: path)
            return Self.json(200, #"{"message":"success"}"#)
        }
    }

    /// The checks api_v2 makes before synthesis (`check_params`), with its messages.
    func validate(_ body: [String: JSONAny]) -> Response? {
        func fail(_ message: String) -> Response { Self.json(400, #"{"message":"\#(message)"}"#) }
        guard let ref = body["ref_audio_path"]?.string, !ref.isEmpty else { return fail("ref_audio_path is required") }
        guard let text = body["text"]?.string, !text.isEmpty else { return fail("text is required") }
        guard let lang = body["text_lang"]?.string, !lang.isEmpty else { return fail("text_lang is required") }
        guard options.languages.contains(lang.lowercased()) else { return fail("text_lang: \(lang) is not supported in version \(options.version)") }
        guard let promptLang = body["prompt_lang"]?.string, !promptLang.isEmpty else { return fail("prompt_lang is required") }
        guard options.languages.contains(promptLang.lowercased()) else { return fail("prompt_lang: \(promptLang) is not supported in version \(options.version)") }
        let media = body["media_type"]?.string ?? "wav"
        guard ["wav", "raw", "ogg", "aac"].contains(media) else { return fail("media_type: \(media) is not supported") }
        let split = body["text_split_method"]?.string ?? "cut5"
        guard ["cut0", "cut1", "cut2", "cut3", "cut4", "cut5"].contains(split) else { return fail("text_split_method:\(split) is not supported") }
        if let batch = body["batch_size"]?.number, batch < 1 {
            // The real server loops forever here; the double records it and refuses instead.
            recorder.violation("batch_size \(batch)")
            return Self.json(500, #"{"message":"batch_size < 1 would hang GPT-SoVITS"}"#)
        }
        return nil
    }

    /// What happens inside `tts_handle`: any failure is 400 "tts failed" with the exception text.
    func referenceFailure(_ body: [String: JSONAny]) -> Response? {
        func ttsFailed(_ exception: String) -> Response {
            let escaped = exception.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"")
            return Self.json(400, #"{"message":"tts failed","Exception":"\#(escaped)"}"#)
        }
        let text = body["text"]?.string ?? ""
        let lang = body["text_lang"]?.string ?? ""
        if lang != lang.lowercased() { return ttsFailed("AssertionError: \(lang) not in language list") }
        let path = body["ref_audio_path"]?.string ?? ""
        guard FileManager.default.fileExists(atPath: path) else { return ttsFailed("\(path) not exists") }
        guard let info = try? AudioInspector.inspect(path: path) else {
            return ttsFailed("Error opening '\(path)': Format not recognised.")
        }
        if info.duration < 3 || info.duration > 10 {
            return ttsFailed("Reference audio is outside the 3-10 second range, please choose another one!")
        }
        if text.contains("[crash]") { return ttsFailed("RuntimeError: shape mismatch in t2s decoder") }
        return nil
    }

    func synthesizeWhole(_ body: [String: JSONAny]) async throws -> Response {
        if let failure = referenceFailure(body) { return failure }
        let text = body["text"]?.string ?? ""
        if text.contains("[hang]") { try await Task.sleep(for: options.hangDuration) }
        if text.contains("[hold]") { try await hold.wait(limit: .seconds(60)) }
        try await Task.sleep(for: options.inferenceDelay)
        if text.contains("[oom]") {
            // Inference failure: 200 with one second of silence at 16 kHz.
            let samples = [UInt8](repeating: 0, count: 32000)
            return wav(WAVHeader.canonical(sampleRate: 16000, dataSize: samples.count) + samples)
        }
        let pcm = segments(text).flatMap { pcmSegment($0, body: body) }
        return wav(WAVHeader.canonical(sampleRate: options.sampleRate, dataSize: pcm.count) + pcm)
    }

    func synthesizeStream(_ body: [String: JSONAny], job: Int) async throws -> Response {
        // Streaming headers go out before inference; failures can only cut the stream.
        let text = body["text"]?.string ?? ""
        let failure = referenceFailure(body)
        let pieces = segments(text)
        let options = self.options
        let double = self
        let rate = options.sampleRate
        let recorder = self.recorder
        return Response(status: .ok, headers: [.contentType: "audio/wav"], body: ResponseBody { writer in
            defer { recorder.end(job) }
            var header = WAVHeader.canonical(sampleRate: rate, dataSize: 0)
            header[4] = 36; header[5] = 0; header[6] = 0; header[7] = 0 // RIFF size 36, data size 0, as upstream writes
            try await writer.write(ByteBuffer(bytes: header))
            if failure != nil { throw StreamCut() }
            for (index, piece) in pieces.enumerated() {
                try await Task.sleep(for: options.inferenceDelay)
                try await writer.write(ByteBuffer(bytes: double.pcmSegment(piece, body: body)))
                if index == 0 && text.contains("[cut]") { throw StreamCut() }
            }
            try await writer.finish(nil)
        })
    }

    struct StreamCut: Error {}

    /// Text split on punctuation, as cut5 does.
    func segments(_ text: String) -> [String] {
        let parts = text.split(whereSeparator: { ".!?。！？,，".contains($0) }).map(String.init).filter { !$0.trimmingCharacters(in: .whitespaces).isEmpty }
        return parts.isEmpty ? [text] : parts
    }

    /// A tone whose length follows the text and speed, then fragment_interval seconds of silence.
    func pcmSegment(_ text: String, body: [String: JSONAny]) -> [UInt8] {
        let speed = max(0.1, body["speed_factor"]?.number ?? 1)
        let interval = body["fragment_interval"]?.number ?? 0.3
        let rate = options.sampleRate
        let voiced = Int(Double(text.count) * options.secondsPerCharacter / speed * Double(rate))
        let silence = Int(interval * Double(rate))
        var out = [UInt8](repeating: 0, count: (voiced + silence) * 2)
        guard !options.silentOutput else { return out }
        for i in 0..<voiced {
            let v = Int16(8000 * sin(2 * Double.pi * 220 * Double(i) / Double(rate)))
            out[2 * i] = UInt8(truncatingIfNeeded: v)
            out[2 * i + 1] = UInt8(truncatingIfNeeded: v >> 8)
        }
        return out
    }

    func wav(_ bytes: [UInt8]) -> Response {
        Response(status: .ok, headers: [.contentType: "audio/wav", .contentLength: String(bytes.count)], body: .init(byteBuffer: ByteBuffer(bytes: bytes)))
    }

    static func json(_ status: Int, _ text: String) -> Response {
        Response(status: .init(code: status), headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(string: text)))
    }
}
