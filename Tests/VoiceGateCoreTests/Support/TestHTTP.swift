import AsyncHTTPClient
import Foundation
import NIOCore
import NIOFoundationCompat
import NIOHTTP1

/// A response read whole, for assertions.
struct TestResponse {
    let status: Int
    let headers: [String: String]
    let body: Data

    var json: [String: Any] { (try? JSONSerialization.jsonObject(with: body)) as? [String: Any] ?? [:] }
    var errorCode: String? { json["error"] as? String }
    func header(_ name: String) -> String? { headers[name.lowercased()] }
}

/// A multipart/form-data body built in memory for tests.
struct Multipart {
    var boundary = "test-boundary-\(UInt32.random(in: 0...UInt32.max))"
    var parts: [(name: String, filename: String?, data: Data)] = []

    mutating func field(_ name: String, _ value: String) { parts.append((name, nil, Data(value.utf8))) }
    mutating func file(_ name: String, _ data: Data, filename: String = "ref.wav") { parts.append((name, filename, data)) }

    var contentType: String { "multipart/form-data; boundary=\"\(boundary)\"" }

    var body: Data {
        var out = Data()
        for part in parts {
            out += Data("--\(boundary)\r\n".utf8)
            if let filename = part.filename {
                out += Data("Content-Disposition: form-data; name=\"\(part.name)\"; filename=\"\(filename)\"\r\nContent-Type: application/octet-stream\r\n\r\n".utf8)
            } else {
                out += Data("Content-Disposition: form-data; name=\"\(part.name)\"\r\n\r\n".utf8)
            }
            out += part.data + Data("\r\n".utf8)
        }
        out += Data("--\(boundary)--\r\n".utf8)
        return out
    }

    static func synthesis(text: String = "Hello there. This is a test.", reference: Data = TestAudio.wav(seconds: 4),
                          extra: [String: String] = [:]) -> Multipart {
        var m = Multipart()
        m.field("text", text)
        for (k, v) in extra.sorted(by: { $0.key < $1.key }) { m.field(k, v) }
        m.file("reference_audio", reference)
        return m
    }
}

extension TestGateway {
    func request(_ method: HTTPMethod = .GET, _ path: String, headers: [(String, String)] = [], body: Data? = nil,
                 key: String? = TestGateway.apiKey) async throws -> TestResponse {
        var request = HTTPClientRequest(url: baseURL + path)
        request.method = method
        if let key { request.headers.add(name: "X-API-Key", value: key) }
        for (name, value) in headers { request.headers.add(name: name, value: value) }
        if let body { request.body = .bytes(ByteBuffer(data: body)) }
        let response = try await client.execute(request, timeout: .seconds(30))
        let data = try await response.body.collect(upTo: 64 << 20)
        var fields: [String: String] = [:]
        for header in response.headers { fields[header.name.lowercased()] = header.value }
        return TestResponse(status: Int(response.status.code), headers: fields, body: Data(buffer: data))
    }

    func synthesize(_ form: Multipart, key: String? = TestGateway.apiKey) async throws -> TestResponse {
        try await request(.POST, "/api/v1/voice/synthesize", headers: [("Content-Type", form.contentType)], body: form.body, key: key)
    }
}
