import AsyncHTTPClient
import Foundation
import NIOCore
import NIOFoundationCompat

/// The seed's own upstream protocol, for people who built that adapter:
/// multipart `POST /synthesize` carrying the reference file, and `GET /health`.
public struct AdapterEngine: SynthesisEngine {
    public let client: HTTPClient
    public let baseURL: String

    public init(client: HTTPClient, baseURL: String) {
        self.client = client
        self.baseURL = baseURL
    }

    public var name: String { "adapter" }
    public var target: String { baseURL }

    public func synthesize(_ request: SynthesisRequest, timeout: Double) async throws -> ByteChunkReader {
        let boundary = "voicegate-" + UUID().uuidString
        var head = ""
        for (name, value) in [("text", request.text), ("language", request.language), ("speed", "\(request.speed)"),
                              ("temperature", "\(request.temperature)"), ("prompt_text", request.promptText),
                              ("prompt_language", request.promptLanguage)] {
            head += "--\(boundary)\r\nContent-Disposition: form-data; name=\"\(name)\"\r\n\r\n\(value)\r\n"
        }
        let format = request.reference.info.format.rawValue
        head += "--\(boundary)\r\nContent-Disposition: form-data; name=\"reference_audio\"; filename=\"reference.\(format)\"\r\n"
        head += "Content-Type: audio/\(format)\r\n\r\n"
        let tail = "\r\n--\(boundary)--\r\n"
        let path = request.reference.localPath
        let fileSize = (try? FileManager.default.attributesOfItem(atPath: path)[.size] as? Int) ?? 0

        var http = HTTPClientRequest(url: baseURL + "/synthesize")
        http.method = .POST
        http.headers.add(name: "Content-Type", value: "multipart/form-data; boundary=\(boundary)")
        let length = head.utf8.count + fileSize + tail.utf8.count
        http.body = .stream(FileParts(head: head, path: path, tail: tail), length: .known(Int64(length)))
        let response = try await UpstreamHTTP.execute(client, http, baseURL: baseURL, timeout: timeout)
        guard response.status == .ok else {
            let body = (try? await response.body.collect(upTo: 64 * 1024)).map { Data(buffer: $0) } ?? Data()
            let text = String(decoding: body.prefix(500), as: UTF8.self)
            if response.status.code == 400 || response.status.code == 422 {
                throw GatewayError(400, "upstream_rejected", "the adapter rejected the request: \(text)",
                                   details: ["upstream_status": .int(Int(response.status.code))])
            }
            throw GatewayError.upstream("the adapter answered \(response.status.code)",
                                        details: ["upstream_status": .int(Int(response.status.code)), "upstream_body": .string(text)])
        }
        return UpstreamHTTP.reader(for: response)
    }

    public func probe(timeout: Double) async -> ProbeOutcome {
        let started = ContinuousClock.now
        do {
            let response = try await client.execute(HTTPClientRequest(url: baseURL + "/health"), timeout: .milliseconds(Int64(timeout * 1000)))
            _ = try await response.body.collect(upTo: 1024 * 1024)
            guard response.status == .ok else { return .failed(reason: "HTTP \(response.status.code)", timedOut: false) }
            return .up(latency: (ContinuousClock.now - started).seconds)
        } catch {
            let (reason, timedOut) = UpstreamHTTP.probeReason(error)
            return .failed(reason: reason, timedOut: timedOut)
        }
    }
}

/// A multipart body streamed from disk: the part headers, the file in 64 KiB reads, the closing boundary.
private struct FileParts: AsyncSequence, Sendable {
    typealias Element = ByteBuffer
    let head: String
    let path: String
    let tail: String

    struct AsyncIterator: AsyncIteratorProtocol {
        var stage = 0
        let parts: FileParts
        var handle: FileHandle?

        mutating func next() async throws -> ByteBuffer? {
            switch stage {
            case 0:
                stage = 1
                handle = FileHandle(forReadingAtPath: parts.path)
                return ByteBuffer(string: parts.head)
            case 1:
                if let data = try handle?.read(upToCount: 64 * 1024), !data.isEmpty { return ByteBuffer(data: data) }
                try? handle?.close()
                stage = 2
                return ByteBuffer(string: parts.tail)
            default:
                return nil
            }
        }
    }

    func makeAsyncIterator() -> AsyncIterator { AsyncIterator(parts: self) }
}
