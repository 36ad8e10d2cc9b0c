import Foundation
import Testing
@testable import VoiceGateConsole
@testable import VoiceGateCore

@Suite("The gateways view and GET /api/v1/gateways")
struct ConsoleGatewaysViewTests {
    /// Two gateways on one store: each announces itself once a second; the view (g) and the API list both, mark this
    /// one, and a gateway that stops cleanly leaves the list.
    @Test func everyGatewayOnTheStoreIsListedAndOneThatStopsLeaves() async throws {
        let shared = TestGateway.makeDataDir()
        defer { try? FileManager.default.removeItem(atPath: shared) }
        let store = "sqlite://\(shared)/shared.db"
        try await TestGateway.run(env: ["STORE_URL": store, "GATEWAY_NAME": "gw-a"]) { a in
            try await TestGateway.run(env: ["STORE_URL": store, "GATEWAY_NAME": "gw-b"]) { _ in
                #expect(await eventually { a.gateway.roster.gateways.map(\.name) == ["gw-a", "gw-b"] })
                let listed = try await a.request(.GET, "/api/v1/gateways").json["gateways"] as? [[String: Any]] ?? []
                #expect(listed.map { $0["name"] as? String } == ["gw-a", "gw-b"])
                #expect(listed.map { $0["this"] as? Bool } == [true, false])
                #expect(listed.allSatisfy { $0["alive"] as? Bool == true })

                var state = ConsoleScreenTests.state()
                let handler = KeyHandler()
                _ = handler.handle(.character("g"), &state)
                #expect(state.view == .gateways)
                let canvas = MemoryCanvas(width: 100, height: 30)
                let snapshot = DashboardSnapshot.of(a.gateway, listen: "x", notice: nil, view: .gateways)
                try #require(ConsoleRenderer().render(state, snapshot, on: canvas) != nil)
                #expect(canvas.contains("Gateways (2 up of 2)"))
                #expect(canvas.contains("gw-a *") && canvas.contains("gw-b"))
                #expect(canvas.contains("IN FLIGHT"))
                #expect(!canvas.contains("Synthesize"), "the table covers the form")
                _ = handler.handle(.character("g"), &state)
                #expect(state.view == .log)
            }
            // B stopped cleanly: gone from the list at A's next round.
            #expect(await eventually { a.gateway.roster.gateways.map(\.name) == ["gw-a"] })
            let client = try await a.request(.GET, "/api/v1/gateways", key: try await a.makeKey("plain"))
            #expect(client.status == 403)
        }
    }
}
