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
        // Nearest rank over all twelve (the window outlives the kept events), within the histogram's 1%.
        #expect(abs(f.p50! - 0.006) <= 0.00006 && abs(f.p95! - 0.012) <= 0.00012)
    }

    @Test func theWindowForgetsWhatIsOlderAndItsMemoryDoesNotGrowWithTheRate() {
        let log = RequestLog(capacity: 100, window: 300)
        let start = Date(timeIntervalSince1970: 1_800_000_000)
        log.record(RequestEvent(time: start, id: "slow", client: "c", method: "GET", path: "/", status: 200, latency: 9, bytes: 0),
                   wasInFlight: false)
        let footprint = log.windowFootprint
        for i in 0..<200_000 {
            let time = start.addingTimeInterval(Double(i) / 1000) // 200 s at 1,000 requests a second
            log.record(RequestEvent(time: time, id: "\(i)", client: "c", method: "GET", path: "/", status: 200,
                                    latency: 0.001 + Double(i % 100) / 100_000, bytes: 0), wasInFlight: false)
        }
        // The same histograms (an array's capacity may round differently once copied: bytes, not megabytes).
        #expect(log.windowFootprint <= footprint + 1024, "\(log.windowFootprint) bytes, from \(footprint)")
        let within = log.figures(now: start.addingTimeInterval(200))
        #expect(abs(within.p50! - 0.0015) <= 0.00002)
        #expect(within.requests == 200_001)
        #expect(within.p95! < 1) // one slow request among 200,000 is not the 95th percentile
        // Ten minutes on, nothing is left in the five-minute window.
        #expect(log.figures(now: start.addingTimeInterval(600)).p50 == nil)
    }
}
