import Foundation
import Testing
@testable import VoiceGateConsole
@testable import VoiceGateCore

@Suite("The console's keys view on an in-memory screen")
struct ConsoleKeysViewTests {
    static func rows() -> [DashboardSnapshot.KeyRow] {
        [
            .init(usage: .init(name: "default", role: .admin, limits: .none, enabled: true, today: KeyUsage(requests: 40, characters: 1200, errors: 1),
                               lastMinute: 3, inFlight: 1, limitedNow: false), waiting: 0),
            .init(usage: .init(name: "open-webui", role: .client, limits: .init(requestsPerMinute: 30, charactersPerDay: 50000, concurrent: 2),
                               enabled: true, today: KeyUsage(requests: 912, characters: 50000, errors: 12), lastMinute: 30, inFlight: 2,
                               limitedNow: true), waiting: 5),
            .init(usage: .init(name: "old-script", role: .client, limits: .none, enabled: false, today: KeyUsage(), lastMinute: 0, inFlight: 0,
                               limitedNow: false), waiting: 0),
        ]
    }

    @Test(arguments: [(80, 24), (120, 40)])
    func eachKeyShowsItsUseAgainstItsLimits(width: Int, height: Int) throws {
        var state = ConsoleScreenTests.state()
        let handler = KeyHandler()
        _ = handler.handle(.character("k"), &state)
        #expect(state.view == .keys)
        var snapshot = ConsoleScreenTests.snapshot(events: [ConsoleScreenTests.event(1)])
        snapshot.keys = Self.rows()
        let canvas = MemoryCanvas(width: width, height: height)
        let layout = try #require(ConsoleRenderer().render(state, snapshot, on: canvas))
        #expect(canvas.contains("Keys (3)"))
        #expect(!canvas.contains("Request log"))
        let row = (layout.log.y..<(layout.log.y + layout.log.height)).map { canvas.row($0) }.first { $0.contains("open-webui") } ?? ""
        for cell in ["LIMITED", "30/30", "912", "50000/50000", "12", "2/2", "5"] {
            #expect(row.contains(cell), "\(cell) in \(row)")
        }
        #expect(canvas.style(of: "open-webui") == .warning)
        // Rows that do not fit scroll into view.
        for _ in 0..<3 { _ = handler.handle(.down, &state) }
        ConsoleRenderer().render(state, snapshot, on: canvas)
        #expect(canvas.contains("disabled"))
        #expect(canvas.row(height - 1).contains("k: log"))
        state.keysScroll = 0
        // k again, or F2 from anywhere, goes back.
        _ = handler.handle(.function(2), &state)
        #expect(state.view != .keys)
        state.focus = .field(.text)
        _ = handler.handle(.function(2), &state)
        #expect(state.view == .keys)
        _ = handler.handle(.character("k"), &state)
        #expect(state.form.text.hasSuffix("k"), "in a text field k is text")
    }

    @Test func theLogNamesTheKey() {
        var event = ConsoleScreenTests.event(2)
        event.key = "open-webui"
        #expect(LogPane.lines(event)[0].hasSuffix(" 200 POST /api/v1/voice/synthesize  250ms open-webui 00000002"))
    }

    /// The snapshot reads the gateway's own meter, queue lanes and key ring.
    @Test func theSnapshotCarriesTheGatewaysKeys() async throws {
        try await TestGateway.run { (t: TestGateway) async throws in
            let secret = try await t.makeKey("viewer", limits: ["characters_per_day": 100])
            #expect(try await t.synthesize(.synthesis(text: "Count these."), key: secret).status == 200)
            let snapshot = DashboardSnapshot.of(t.gateway, listen: "x", notice: nil, view: .keys)
            let viewer = try #require(snapshot.keys.first { $0.usage.name == "viewer" })
            #expect(viewer.usage.today.requests == 1 && viewer.usage.today.characters == 12 && viewer.usage.limits.charactersPerDay == 100)
            #expect(snapshot.keys.map(\.usage.name).contains("default"))
        }
    }
}
