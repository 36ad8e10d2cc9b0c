import Foundation
import SovitsDouble
import Testing
@testable import VoiceGateConsole
@testable import VoiceGateCore

@Suite("The console's workers view on an in-memory screen")
struct ConsoleWorkersViewTests {
    /// A live gateway with one double and one dead worker: the view shows both as they are, and d / r drain and
    /// resume the selected one.
    @Test(arguments: [(80, 24), (120, 40)])
    func theViewShowsEachWorkerAndDrainsTheSelectedOne(width: Int, height: Int) async throws {
        let server = try await SovitsDoubleServer.start(SovitsDouble())
        let closed = try ClosedPort()
        let dead = "http://127.0.0.1:\(closed.port)"
        try await TestGateway.run(upstream: .workers([server.url, dead])) { t in
            let pool = t.gateway.pool
            #expect(await eventually { pool.workers[1].health != .unknown && pool.workers[0].health != .unknown })
            #expect(try await t.makeVoice("nina", extra: ["gpt_weights": "GPT_weights_v2/nina.ckpt", "sovits_weights": "SoVITS_weights_v2/nina.pth"]).status == 201)
            let running = Task {
                var form = Multipart()
                form.field("text", "Held on the first worker. [hold]")
                form.field("voice", "nina")
                return try await t.synthesize(form).status
            }
            // Running on the double: its weights switched first.
            #expect(await eventually { server.double.recorder.stats.running == 1 })

            var state = ConsoleScreenTests.state()
            var handler = KeyHandler()
            handler.workerNames = pool.workers.map(\.name)
            _ = handler.handle(.character("w"), &state)
            #expect(state.view == .workers)
            let canvas = MemoryCanvas(width: width, height: height)
            func draw() throws -> ConsoleRenderer.Layout {
                let snapshot = DashboardSnapshot.of(t.gateway, listen: "x", notice: nil, view: .workers)
                return try #require(ConsoleRenderer().render(state, snapshot, on: canvas))
            }
            var layout = try draw()
            _ = layout
            // The view covers the log and the form; the table's rows start with the worker's name.
            func row(_ name: String) -> String {
                (3..<(height - 1)).map { canvas.row($0) }.first { $0.hasPrefix("│\(name) ") } ?? ""
            }
            #expect(!canvas.contains("Synthesize"))
            let busy = row(pool.workers[0].name)
            // Counts and state first; weights and the request after them, cut where 80 columns end.
            for cell in ["BUSY", "nina.ckpt"] + (width >= 120 ? ["nina.ckpt + nina.pth", "default nina"] : []) {
                #expect(busy.contains(cell), "\(cell) in \(busy)")
            }
            #expect(row(pool.workers[1].name).contains("DOWN (refused)"))
            withExtendedLifetime(closed) {}
            #expect(canvas.contains("Workers (2)"))
            #expect(canvas.row(height - 1).contains("d: drain"))

            // ↓ selects the dead one: the last line says why it is down.
            _ = handler.handle(.down, &state)
            layout = try draw()
            #expect(canvas.contains("down since"), "the selected worker's detail")
            #expect(canvas.contains("connection refused"))
            _ = handler.handle(.up, &state)
            // d on the busy one: it finishes its request and takes nothing more.
            let action = handler.handle(.character("d"), &state)
            #expect(action == .drain(pool.workers[0].name))
            pool.drain(pool.workers[0].name)
            layout = try draw()
            #expect(row(pool.workers[0].name).contains("DRAINING (1 running)"))
            server.double.hold.release()
            #expect(try await running.value == 200)
            layout = try draw()
            #expect(row(pool.workers[0].name).contains("DRAINING"))
            let cells = row(pool.workers[0].name).split(separator: " ").map(String.init)
            #expect(Array(cells.dropFirst().prefix(4)) == ["DRAINING", "1", "0", "1"], "one done, none failed, one switch: \(cells)")
            #expect(handler.handle(.character("r"), &state) == .resume(pool.workers[0].name))
            pool.resume(pool.workers[0].name)
            layout = try draw()
            #expect(!row(pool.workers[0].name).contains("DRAINING"))
            // Tab shows the form again; w, or F3 from anywhere, goes back to the log.
            _ = handler.handle(.tab, &state)
            layout = try draw()
            #expect(canvas.contains("Synthesize") && !canvas.contains("Workers (2)"))
            state.focus = .log
            _ = handler.handle(.character("w"), &state)
            #expect(state.view != .workers)
            state.focus = .field(.text)
            _ = handler.handle(.function(3), &state)
            #expect(state.view == .workers)
        }
        await server.stop()
    }
}
