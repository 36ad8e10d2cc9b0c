import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import NIOHTTP1

/// The seed's `ErrorResponse`: `{"success": false, "error": code, "message": text, "details": {...} | null}`.
struct ErrorResponseBody: Encodable {
    let error: String
    let message: String
    let details: [String: JSONValue]?

    enum CodingKeys: String, CodingKey { case success, error, message, details }

    func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(false, forKey: .success)
        try c.encode(error, forKey: .error)
        try c.encode(message, forKey: .message)
        if let details { try c.encode(details, forKey: .details) } else { try c.encodeNil(forKey: .details) }
    }
}

extension GatewayError: HTTPResponseError {
    public var status: HTTPResponse.Status { .init(code: statusCode) }

    public var headers: HTTPFields {
        var fields = HTTPFields()
        fields[.contentType] = "application/json; charset=utf-8"
        if let retryAfter { fields[.retryAfter] = String(retryAfter) }
        if let allow { fields[.allow] = allow }
        return fields
    }

    public func response(from request: Request, context: some RequestContext) throws -> Response {
        jsonResponse()
    }

    func jsonResponse() -> Response {
        Response(status: status, headers: headers, body: .init(byteBuffer: jsonBody()))
    }

    /// The error as the routes it happened on speak it: OpenAI's shape under `/v1/`, the seed's elsewhere.
    func response(forPath path: String) -> Response {
        path.hasPrefix("/v1/") ? openAIResponse() : jsonResponse()
    }

    /// `{"error": {"message", "type", "param", "code"}}`, all four present. The official client retries every 429
    /// twice unless told not to: a spent daily quota says `x-should-retry: false`.
    func openAIResponse() -> Response {
        var fields = headers
        if code == "quota_exceeded" { fields[.xShouldRetry] = "false" }
        let body: JSONValue = .object(["error": .object([
            "message": .string(message), "type": .string(openAIType), "param": param.map { .string($0) } ?? .null, "code": .string(code),
        ])])
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return Response(status: status, headers: fields, body: .init(byteBuffer: ByteBuffer(bytes: (try? encoder.encode(body)) ?? Data())))
    }

    var openAIType: String {
        switch statusCode {
        case 401: return "authentication_error"
        case 403: return "permission_error"
        case 429: return code == "quota_exceeded" ? "insufficient_quota" : "rate_limit_error"
        case 400..<500: return "invalid_request_error"
        default: return "server_error"
        }
    }

    /// The `ErrorResponse` JSON.
    func jsonBody() -> ByteBuffer {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return ByteBuffer(bytes: (try? encoder.encode(ErrorResponseBody(error: code, message: message, details: details))) ?? Data())
    }

    /// Any error as the gateway's error: its own kinds pass through, HTTP errors keep their status.
    public static func from(_ error: any Error) -> GatewayError {
        switch error {
        case let error as GatewayError: return error
        case let error as HTTPError:
            let code = Int(error.status.code)
            let name: String
            switch code {
            case 404: name = "not_found"
            case 405: name = "method_not_allowed"
            case 413: name = "file_too_large"
            case 400..<500: name = "bad_request"
            default: name = "internal_error"
            }
            return GatewayError(code, name, error.body ?? error.status.reasonPhrase)
        case let error as HTTPParserError:
            // The request's own framing broke while its body was read (the upstream's is mapped where it is read).
            return GatewayError(400, "bad_request", "the request's body broke off before its Content-Length or last chunk (\(error.debugDescription))")
        case let error as ClientTimeout: return GatewayError(408, "client_timeout", error.description)
        case let error where StoreError.isUnavailable(error): return .storeUnavailable(error)
        case is CancellationError: return GatewayError(499, "client_closed", "the client closed the connection")
        case let error as ChannelError where [.ioOnClosedChannel, .alreadyClosed, .outputClosed, .eof].contains(error):
            return GatewayError(499, "client_closed", "the client closed the connection")
        case let error as IOError where [EPIPE, ECONNRESET].contains(error.errnoCode):
            return GatewayError(499, "client_closed", "the client closed the connection")
        default: return .internalError("unexpected error: \(error)")
        }
    }
}
