import Hummingbird
import Logging
import NIOCore
import NIOEmbedded
import Testing
@testable import VoiceGateCore

@Suite("Noticing clients that leave")
struct ClientCloseTests {
    /// NIOAsyncTestingChannel, not EmbeddedChannel: the context asks the channel's pipeline from the task's thread,
    /// which an EmbeddedChannel does not allow (SwiftNIO warned "EmbeddedEventLoop is not thread-safe").
    static func context(on channel: NIOAsyncTestingChannel) -> GatewayRequestContext {
        GatewayRequestContext(source: .init(channel: channel, logger: Logger(label: "test")))
    }

    @Test func finishedRequestsLeaveNothingOnAKeptAliveConnection() async throws {
        let detector = ClientCloseDetector()
        let channel = await NIOAsyncTestingChannel(handler: detector)
        let context = Self.context(on: channel)
        for i in 0..<50 {
            #expect(try await context.cancellingOnClientClose { i } == i)
        }
        // Each request used to leave its callback (and, through it, its finished task and result) behind
        // until the connection closed: about 14 KB per synthesis on a kept-alive connection.
        #expect(detector.waitingCount == 0)
    }

    @Test func aClosedInputCancelsTheWorkInFlight() async throws {
        let detector = ClientCloseDetector()
        let channel = await NIOAsyncTestingChannel(handler: detector)
        let context = Self.context(on: channel)
        let started = AsyncStream<Void>.makeStream()
        async let outcome: Result<Void, any Error> = {
            do {
                try await context.cancellingOnClientClose {
                    started.continuation.yield()
                    try await Task.sleep(for: .seconds(30))
                }
                return .success(())
            } catch {
                return .failure(error)
            }
        }()
        for await _ in started.stream { break }
        #expect(detector.waitingCount == 1)
        try await channel.testingEventLoop.executeInContext { channel.pipeline.fireUserInboundEventTriggered(ChannelEvent.inputClosed) }
        guard case .failure(let error) = await outcome else {
            Issue.record("the work was not cancelled")
            return
        }
        #expect(error is CancellationError)
        #expect(detector.waitingCount == 0)
    }
}
