import Foundation
import HTTPTypes
import Hummingbird
import Logging
import Synchronization

/// Outermost middleware: gives each request its id, renders every failure as `ErrorResponse`, and when the
/// response body has been sent (or failed) hands the finished request to the recorder.
struct RequestEventMiddleware: RouterMiddleware {
    typealias Context = GatewayRequestContext
    let recorder: RequestRecorder

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let started = ContinuousClock.now
        let id = RequestID.make()
        var context = context
        context.requestID = id
        recorder.requestStarted()
        var response: Response
        var failure: GatewayError?
        do {
            response = try await next(request, context)
        } catch {
            let mapped = GatewayError.from(error)
            failure = mapped
            response = mapped.response(forPath: request.uri.path)
        }
        response.headers[.xRequestID] = id
        var event = RequestEvent(time: Date(), id: id, client: context.clientDescription, method: request.method.rawValue,
                                 path: request.uri.path, status: Int(response.status.code), latency: 0, bytes: 0,
                                 errorCode: failure?.code, message: failure?.message)
        event.route = context.endpointPath
        let pending = PendingRequestEvent(event, started: started, exchange: context.exchange, recorder: recorder)
        let body = response.body
        response.body = ResponseBody(contentLength: body.contentLength) { writer in
            do {
                try await body.write(CountingWriter(parent: writer, counter: pending.bytes))
            } catch {
                pending.finish(GatewayError.from(error))
                throw error
            }
            pending.finish(nil)
        }
        return response
    }
}

/// A request whose answer is being written: recorded once, when its body has been written or has failed, or,
/// should the server drop the answer unwritten (the connection closed first), when the answer is released.
final class PendingRequestEvent: Sendable {
    private let event: RequestEvent
    private let started: ContinuousClock.Instant
    private let exchange: RequestExchange
    private let recorder: RequestRecorder
    private let done = Atomic<Bool>(false)
    let bytes = ByteCounter()

    init(_ event: RequestEvent, started: ContinuousClock.Instant, exchange: RequestExchange, recorder: RequestRecorder) {
        self.event = event
        self.started = started
        self.exchange = exchange
        self.recorder = recorder
    }

    func finish(_ outcome: GatewayError?) {
        guard !done.exchange(true, ordering: .acquiringAndReleasing) else { return }
        var event = self.event
        event.bytes = bytes.value
        if let outcome, event.errorCode == nil { // the first failure says why; writing its answer may fail after it
            event.errorCode = outcome.code
            event.message = outcome.message
        }
        event.key = exchange.key?.name
        event.synthesis = exchange.trace?.current
        recorder.finished(event, started: started)
    }

    deinit {
        // Unwritten: a failure keeps its own code; an answer nobody received is the client's leaving.
        finish(event.errorCode == nil ? GatewayError(499, "client_closed", "the connection closed before the answer was written") : nil)
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
public enum RequestID {
    public static func make() -> String {
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
    static let xShouldRetry = Self("x-should-retry")!
}
