import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1

/// The jobs API of a running gateway, over HTTP, for `voicegate jobs`: the URL and key come from the flags or
/// `VOICEGATE_URL` / `VOICEGATE_KEY`.
struct JobsAPI {
    let baseURL: String
    let key: String
    let client: HTTPClient

    struct Failure: Error, CustomStringConvertible {
        let description: String
    }

    struct Answer {
        let status: Int
        let body: ByteBuffer

        var json: [String: Any] { (try? JSONSerialization.jsonObject(with: Data(body.readableBytesView))) as? [String: Any] ?? [:] }

        /// The gateway's `{"error", "message"}`, or the status.
        var problem: String {
            if let code = json["error"] as? String { return "\(code): \(json["message"] as? String ?? "")" }
            return "HTTP \(status)"
        }
    }

    static func with<T>(url: String?, key: String?, _ body: (JobsAPI) async throws -> T) async throws -> T {
        let environment = ProcessInfo.processInfo.environment
        let base = (url ?? environment["VOICEGATE_URL"] ?? "http://127.0.0.1:8000").trimmingCharacters(in: CharacterSet(charactersIn: "/"))
        guard let key = key ?? environment["VOICEGATE_KEY"], !key.isEmpty else {
            throw Failure(description: "no key: pass --key or set VOICEGATE_KEY")
        }
        let client = HTTPClient(eventLoopGroupProvider: .singleton)
        do {
            let result = try await body(JobsAPI(baseURL: base, key: key, client: client))
            try await client.shutdown()
            return result
        } catch {
            try? await client.shutdown()
            throw error
        }
    }

    func call(_ method: HTTPMethod, _ path: String, body: ByteBuffer? = nil, contentType: String? = nil,
              maxBytes: Int = 16 << 20) async throws -> Answer {
        var request = HTTPClientRequest(url: baseURL + "/api/v1/" + path)
        request.method = method
        request.headers.add(name: "X-API-Key", value: key)
        if let contentType { request.headers.add(name: "Content-Type", value: contentType) }
        if let body { request.body = .bytes(body) }
        let response: HTTPClientResponse
        do {
            response = try await client.execute(request, timeout: .seconds(120))
        } catch {
            throw Failure(description: "cannot reach the gateway at \(baseURL): \(error)")
        }
        return Answer(status: Int(response.status.code), body: try await response.body.collect(upTo: maxBytes))
    }

    /// Streams a result to `destination` (through a temporary file renamed into place); false when the gateway has
    /// nothing finished to give yet.
    func download(_ path: String, to destination: String) async throws -> Bool {
        var request = HTTPClientRequest(url: baseURL + "/api/v1/" + path)
        request.headers.add(name: "X-API-Key", value: key)
        let response = try await client.execute(request, timeout: .seconds(600))
        guard response.status == .ok else {
            let answer = Answer(status: Int(response.status.code), body: try await response.body.collect(upTo: 1 << 20))
            if answer.status == 409 { return false }
            throw Failure(description: "\(path): \(answer.problem)")
        }
        let partial = destination + ".part"
        guard FileManager.default.createFile(atPath: partial, contents: nil), let handle = FileHandle(forWritingAtPath: partial) else {
            throw Failure(description: "cannot write \(partial)")
        }
        do {
            defer { try? handle.close() }
            for try await chunk in response.body { try handle.write(contentsOf: chunk.readableBytesView) }
        } catch {
            unlink(partial)
            throw error
        }
        guard rename(partial, destination) == 0 else { throw Failure(description: "cannot move \(partial) to \(destination)") }
        return true
    }
}
