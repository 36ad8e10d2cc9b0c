import AsyncHTTPClient
import Foundation
import NIOCore
import NIOFoundationCompat

/// GPT-SoVITS `api_v2.py`: JSON `POST /tts` naming a reference by its path on the shared folder.
public struct SovitsV2Engine: SynthesisEngine, WeightLoading {
    public let client: HTTPClient
    public let baseURL: String
    /// The reference folder as GPT-SoVITS sees it.
    public let upstreamRefDir: String

    public init(client: HTTPClient, baseURL: String, upstreamRefDir: String) {
        self.client = client
        self.baseURL = baseURL
        self.upstreamRefDir = upstreamRefDir.hasSuffix("/") ? String(upstreamRefDir.dropLast()) : upstreamRefDir
    }

    public var name: String { "gpt-sovits" }
    public var target: String { baseURL }

    func body(for r: SynthesisRequest) -> TTSRequestBody {
        TTSRequestBody(text: r.text, textLang: r.language, refAudioPath: upstreamRefDir + "/" + r.reference.fileName,
                       promptText: r.promptText, promptLang: r.promptLanguage, temperature: r.temperature,
                       speedFactor: r.speed, seed: r.seed, streamingMode: r.stream)
    }

    public func synthesize(_ request: SynthesisRequest, timeout: Double) async throws -> ByteChunkReader {
        var http = HTTPClientRequest(url: baseURL + "/tts")
        http.method = .POST
        http.headers.add(name: "Content-Type", value: "application/json")
        http.headers.add(name: "Accept", value: "audio/wav")
        let json = try JSONEncoder().encode(body(for: request))
        http.body = .bytes(ByteBuffer(data: json))
        let response = try await UpstreamHTTP.execute(client, http, baseURL: baseURL, timeout: timeout)
        guard response.status == .ok else {
            let text = try? await response.body.collect(upTo: 64 * 1024)
            throw Self.mapFailure(status: Int(response.status.code), body: text.map { Data(buffer: $0) } ?? Data())
        }
        return UpstreamHTTP.reader(for: response)
    }

    /// GPT-SoVITS answers 400 for its own failures too: tell the client's fault (its reference) from the server's.
    static func mapFailure(status: Int, body: Data) -> GatewayError {
        let object = (try? JSONSerialization.jsonObject(with: body)) as? [String: Any]
        let message = object?["message"] as? String
        let exception = object?["Exception"].map { String(describing: $0) }
        var details: [String: JSONValue] = ["upstream_status": .int(status)]
        if let message { details["upstream_message"] = .string(message) }
        if let exception { details["upstream_exception"] = .string(exception) }
        if object == nil, !body.isEmpty {
            details["upstream_body"] = .string(String(decoding: body.prefix(500), as: UTF8.self))
        }
        if status == 422, let detail = object?["detail"],
           let data = try? JSONSerialization.data(withJSONObject: detail), let text = String(data: data, encoding: .utf8) {
            details["upstream_detail"] = .string(String(text.prefix(1000)))
        }
        if status == 400, message == "tts failed" {
            let reason = exception ?? "unknown"
            if isReferenceProblem(reason) {
                return GatewayError(400, "reference_rejected", "GPT-SoVITS rejected the reference audio: \(reason)", details: details)
            }
            return GatewayError(502, "upstream_tts_failed", "GPT-SoVITS failed to synthesize: \(reason)", details: details)
        }
        if status == 400, let message, message.contains("is not supported"), message.contains("lang") {
            return GatewayError(400, "unsupported_language", "GPT-SoVITS does not support this language with its model: \(message)", details: details)
        }
        let summary = message ?? (status == 422 ? "request rejected as malformed (422)" : "HTTP \(status)")
        return GatewayError.upstream("GPT-SoVITS answered \(status): \(summary)", details: details)
    }

    static func isReferenceProblem(_ exception: String) -> Bool {
        let text = exception.lowercased()
        return ["not exists", "reference audio", "ref_audio", "3-10 second", "libsndfile", "audioread", "nobackend",
                "error opening", "could not decode", "format not recognised"].contains { text.contains($0) }
    }

    /// `GET /set_gpt_weights` then `/set_sovits_weights`: global on the server and blocking it while they load.
    public func load(_ weights: ModelWeights, timeout: Double) async throws {
        for (route, path) in [("set_gpt_weights", weights.gpt), ("set_sovits_weights", weights.sovits)] {
            var components = URLComponents()
            components.queryItems = [URLQueryItem(name: "weights_path", value: path)]
            let query = components.percentEncodedQuery?.replacingOccurrences(of: "+", with: "%2B") ?? ""
            let response = try await UpstreamHTTP.execute(client, HTTPClientRequest(url: baseURL + "/" + route + "?" + query),
                                                          baseURL: baseURL, timeout: timeout)
            let body = (try? await response.body.collect(upTo: 64 * 1024)).map { Data(buffer: $0) } ?? Data()
            guard response.status == .ok else {
                let object = (try? JSONSerialization.jsonObject(with: body)) as? [String: Any]
                let reason = [object?["message"], object?["Exception"]].compactMap { $0.map { String(describing: $0) } }.joined(separator: ": ")
                throw GatewayError(502, "weights_switch_failed",
                                   "GPT-SoVITS at \(baseURL) could not load \(path) (\(route)): \(reason.isEmpty ? "HTTP \(response.status.code)" : reason)",
                                   details: ["upstream": .string(baseURL), "upstream_status": .int(Int(response.status.code)), "weights_path": .string(path)])
            }
        }
    }

    public func probe(timeout: Double) async -> ProbeOutcome {
        let started = ContinuousClock.now
        do {
            let request = HTTPClientRequest(url: baseURL + "/openapi.json")
            let response = try await client.execute(request, timeout: .milliseconds(Int64(timeout * 1000)))
            let body = try await response.body.collect(upTo: 4 * 1024 * 1024)
            guard response.status == .ok else { return .failed(reason: "HTTP \(response.status.code)", timedOut: false) }
            guard String(buffer: body).contains("\"/tts\"") else {
                return .failed(reason: "not GPT-SoVITS api_v2 (no /tts in /openapi.json)", timedOut: false)
            }
            return .up(latency: (ContinuousClock.now - started).seconds)
        } catch {
            let (reason, timedOut) = UpstreamHTTP.probeReason(error)
            return .failed(reason: reason, timedOut: timedOut)
        }
    }
}
