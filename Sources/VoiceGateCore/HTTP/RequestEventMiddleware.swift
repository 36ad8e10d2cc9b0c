import Foundation
import HTTPTypes
import Hummingbird
import Logging
import Synchronization

/// Outermost middleware: gives each request its id, renders every failure as `ErrorResponse`,
/// and when the response body has been sent (or failed) writes the log line and the request event.
struct RequestEventMiddleware: RouterMiddleware {
    typealias Context = GatewayRequestContext
    let log: RequestLog
    let logger: Logger

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let started = ContinuousClock.now
        let id = RequestID.make()
        var context = context
        context.requestID = id
        log.requestStarted()
        var response: Response
        var failure: GatewayError?
        do {
            response = try await next(request, context)
        } catch {
            let mapped = GatewayError.from(error)
            failure = mapped
            response = mapped.jsonResponse()
        }
        response.headers[.xRequestID] = id
        let event = RequestEvent(time: Date(), id: id, client: context.clientDescription, method: request.method.rawValue,
                                 path: request.uri.path, status: Int(response.status.code), latency: 0, bytes: 0,
                                 errorCode: failure?.code, message: failure?.message)
        let body = response.body
        let log = self.log
        let logger = self.logger
        response.body = ResponseBody(contentLength: body.contentLength) { writer in
            let counter = ByteCounter()
            var outcome: GatewayError?
            do {
                try await body.write(CountingWriter(parent: writer, counter: counter))
            } catch {
                outcome = GatewayError.from(error)
                Self.finish(event, started: started, bytes: counter.value, failure: outcome, log: log, logger: logger)
                throw error
            }
            Self.finish(event, started: started, bytes: counter.value, failure: nil, log: log, logger: logger)
        }
        return response
    }

    static func finish(_ event: RequestEvent, started: ContinuousClock.Instant, bytes: Int, failure: GatewayError?,
                       log: RequestLog, logger: Logger) {
        var event = event
        event.latency = (ContinuousClock.now - started).seconds
        event.bytes = bytes
        if let failure {
            event.errorCode = failure.code
            event.message = failure.message
        }
        log.record(event)
        var metadata: Logger.Metadata = ["request_id": "\(event.id)", "client": "\(event.client)"]
        if let code = event.errorCode { metadata["error"] = "\(code)" }
        let line = "\(event.method) \(event.path) \(event.status) \(DecimalText.format(event.latency * 1000, places: 1))ms \(event.bytes)B"
        if let failure, event.status < 400 {
            logger.error("\(line) failed after headers: \(failure.message)", metadata: metadata)
        } else if event.status >= 500 {
            logger.error("\(line) \(event.message ?? "")", metadata: metadata)
        } else if event.status >= 400 {
            logger.warning("\(line) \(event.message ?? "")", metadata: metadata)
        } else {
            logger.info("\(line)", metadata: metadata)
        }
    }
}

/// Counts what is written through it on the way to the real writer.
struct CountingWriter: ResponseBodyWriter {
    var parent: any ResponseBodyWriter
    let counter: ByteCounter

    mutating func write(_ buffer: ByteBuffer) async throws {
        counter.add(buffer.readableBytes)
        try await parent.write(buffer)
    }

    consuming func finish(_ trailingHeaders: HTTPFields?) async throws {
        try await parent.finish(trailingHeaders)
    }
}

final class ByteCounter: Sendable {
    private let count = Atomic<Int>(0)
    func add(_ n: Int) { count.add(n, ordering: .relaxed) }
    var value: Int { count.load(ordering: .relaxed) }
}

/// Request ids: 16 random hex digits, short enough to read in a log line.
enum RequestID {
    static func make() -> String {
        String(UInt64.random(in: 0...UInt64.max), radix: 16).leftPadded(to: 16)
    }
}

extension String {
    func leftPadded(to width: Int, with pad: Character = "0") -> String {
        count >= width ? self : String(repeating: pad, count: width - count) + self
    }
}

extension HTTPField.Name {
    static let xRequestID = Self("X-Request-ID")!
    static let xAudioDuration = Self("X-Audio-Duration")!
    static let xSampleRate = Self("X-Sample-Rate")!
    static let xEngine = Self("X-Engine")!
    static let xAPIKey = Self("X-API-Key")!
    static let serverTiming = Self("Server-Timing")!
}
