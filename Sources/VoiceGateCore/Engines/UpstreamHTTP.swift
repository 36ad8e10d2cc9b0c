import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1
import NIOPosix

/// The HTTP client for upstreams: no redirects, no decompression, bounded connect and idle-read times.
public enum UpstreamHTTP {
    public static func makeClient(readTimeout: Double) -> HTTPClient {
        var configuration = HTTPClient.Configuration(
            redirectConfiguration: .disallow,
            timeout: .init(connect: .seconds(1), read: .milliseconds(Int64(readTimeout * 1000))),
            decompression: .disabled
        )
        configuration.connectionPool.concurrentHTTP1ConnectionsPerHostSoftLimit = 64
        return HTTPClient(eventLoopGroupProvider: .shared(MultiThreadedEventLoopGroup.singleton), configuration: configuration)
    }

    /// Sends a request and waits for the response head; transport failures become the gateway's errors.
    static func execute(_ client: HTTPClient, _ request: HTTPClientRequest, baseURL: String, timeout: Double) async throws -> HTTPClientResponse {
        do {
            return try await client.execute(request, timeout: .milliseconds(Int64(timeout * 1000)))
        } catch {
            throw map(error, url: baseURL, timeout: timeout)
        }
    }

    /// The answer's body, with the length its Content-Length promises.
    static func reader(for response: HTTPClientResponse) -> ByteChunkReader {
        ByteChunkReader(response.body, declaredLength: response.headers.first(name: "content-length").flatMap { Int($0) })
    }

    /// Turns a transport failure into the gateway's error: refused/unreachable → 502, timed out → 504.
    static func map(_ error: any Error, url: String, timeout: Double) -> GatewayError {
        if let error = error as? GatewayError { return error }
        if let error = error as? HTTPClientError {
            switch error {
            case .deadlineExceeded, .readTimeout:
                return GatewayError(504, "upstream_timeout", "the upstream did not answer within SOVITS_TIMEOUT (\(formatSeconds(timeout)) s)",
                                    details: ["upstream": .string(url)])
            case .connectTimeout:
                var failure = GatewayError(502, "upstream_unavailable", "cannot connect to the upstream at \(url) (connect timed out)",
                                           details: ["upstream": .string(url), "reason": .string("connect timed out")])
                failure.couldNotConnect = true
                return failure
            default: break
            }
        }
        if let error = error as? IOError {
            let reason = error.errnoCode == ECONNREFUSED ? "connection refused" : String(cString: strerror(error.errnoCode))
            var failure = GatewayError(502, "upstream_unavailable", "cannot connect to the upstream at \(url) (\(reason))",
                                       details: ["upstream": .string(url), "reason": .string(reason)])
            failure.couldNotConnect = true
            return failure
        }
        if error is HTTPParserError {
            return GatewayError(502, "upstream_bad_response", "the upstream at \(url) did not answer in HTTP (\(error))",
                                details: ["upstream": .string(url)])
        }
        if error is CancellationError { return GatewayError(499, "client_closed", "the client went away") }
        return GatewayError(502, "upstream_unavailable", "the upstream request failed: \(describe(error))", details: ["upstream": .string(url)])
    }

    /// A short reason for a failed probe, in words an operator reads in a header line.
    static func probeReason(_ error: any Error) -> (reason: String, timedOut: Bool) {
        if let error = error as? HTTPClientError {
            switch error {
            case .deadlineExceeded, .readTimeout: return ("timed out", true)
            case .connectTimeout: return ("connect timed out", false)
            default: return (describe(error), false)
            }
        }
        if let error = error as? IOError {
            return (error.errnoCode == ECONNREFUSED ? "connection refused" : String(cString: strerror(error.errnoCode)), false)
        }
        return (describe(error), false)
    }

    static func describe(_ error: any Error) -> String {
        let text = String(describing: error)
        return text.count > 200 ? String(text.prefix(200)) + "…" : text
    }
}

func formatSeconds(_ s: Double) -> String {
    s == s.rounded() ? String(Int(s)) : String(format: "%.3g", s)
}
