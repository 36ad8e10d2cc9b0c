import Foundation
import Testing
@testable import VoiceGateCore

@Suite("RequestLog")
struct RequestLogTests {
    static func event(_ i: Int, error: Bool = false) -> RequestEvent {
        RequestEvent(time: Date(), id: "\(i)", client: "c", method: "GET", path: "/", status: error ? 500 : 200,
                     latency: Double(i) / 1000, bytes: 0, errorCode: error ? "internal_error" : nil)
    }

    @Test func keepsABoundedHistoryInOrder() {
        let log = RequestLog(capacity: 5)
        for i in 1...12 {
            log.requestStarted()
            log.record(Self.event(i, error: i == 11))
        }
        #expect(log.events().map(\.id) == ["8", "9", "10", "11", "12"])
        #expect(log.events(last: 2).events.map(\.id) == ["11", "12"])
        #expect(log.events(last: 99).total == 5)
        #expect(log.keptErrorCount == 1)
        #expect(log.events(after: log.lastSequence - 1).map(\.id) == ["12"])
        let f = log.figures()
        #expect(f.requests == 12 && f.errors == 1 && f.inFlight == 0)
        #expect(f.p50 == 0.006 && f.p95 == 0.012)
    }
}
