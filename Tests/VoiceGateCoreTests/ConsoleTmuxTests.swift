import Foundation
import Testing
@testable import VoiceGateCore

/// The real binary under tmux, driven as an operator would: start, health and uptime in the header,
/// a request from another client in the log, a synthesis from the form to a file, resize, quit.
let tmuxAvailable = FileManager.default.isExecutableFile(atPath: "/usr/bin/tmux")

@Suite("The console binary under tmux", .serialized, .enabled(if: tmuxAvailable, "tmux is not installed (apt-get install tmux)"))
struct ConsoleTmuxTests {
    static var binary: String {
        URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent("voicegate").path
    }

    struct Session {
        let name = "vg-test-\(UInt32.random(in: 0...UInt32.max))"
        let dir = NSTemporaryDirectory() + "vg-tmux-" + UUID().uuidString
        let port = try! TestGateway.unusedPort()

        @discardableResult
        func tmux(_ args: String...) -> String { run("/usr/bin/tmux", args) }

        @discardableResult
        func run(_ executable: String, _ args: [String]) -> String {
            let p = Process()
            p.executableURL = URL(fileURLWithPath: executable)
            p.arguments = args
            let out = Pipe()
            p.standardOutput = out
            p.standardError = FileHandle.nullDevice
            try? p.run()
            p.waitUntilExit()
            return String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        }

        func start(width: Int = 120, height: Int = 40) throws {
            try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
            tmux("new-session", "-d", "-s", name, "-x", "\(width)", "-y", "\(height)", "-c", dir,
                 "env LANG=C.UTF-8 PORT=\(port) HEALTH_INTERVAL=0.5 \(ConsoleTmuxTests.binary); echo EXIT=$?; sleep 30")
        }

        var screen: String { tmux("capture-pane", "-p", "-t", name) }

        func waitFor(_ text: String, timeout: Double = 10) async -> Bool {
            await eventually(timeout: timeout) { screen.contains(text) }
        }

        func keys(_ keys: String...) { run("/usr/bin/tmux", ["send-keys", "-t", name] + keys) }
        func literal(_ text: String) { tmux("send-keys", "-t", name, "-l", text) }

        func stop() {
            tmux("kill-session", "-t", name)
            try? FileManager.default.removeItem(atPath: dir)
        }
    }

    @Test func operatorSessionFromStartToQuit() async throws {
        let s = Session()
        try s.start()
        defer { s.stop() }
        #expect(await s.waitFor("VoiceGate \(Gateway.version)"))
        #expect(await s.waitFor("UP "))
        #expect(await s.waitFor("uptime 00:00:0"))
        #expect(s.screen.contains("engine: espeak-ng (embedded) — set SOVITS_BASE_URL for GPT-SoVITS"))

        // Another client's request (curl) appears in the log.
        #expect(s.run("/usr/bin/curl", ["-s", "http://127.0.0.1:\(s.port)/health"]).contains("\"healthy\""))
        #expect(await s.waitFor("GET /health"))

        // Fill the form and synthesize to a file.
        s.keys("Tab")
        s.keys("C-u")
        s.literal("Testing the console from tmux.")
        s.keys("C-r")
        #expect(await s.waitFor("Saved ", timeout: 20))
        let outputs = try FileManager.default.contentsOfDirectory(atPath: s.dir + "/data/output")
        #expect(outputs.count == 1 && outputs[0].hasSuffix(".wav"))
        let wav = try Data(contentsOf: URL(fileURLWithPath: s.dir + "/data/output/" + outputs[0]))
        #expect(WAVHeader.parse([UInt8](wav.prefix(64)))?.sampleRate == 22050)
        #expect(await s.waitFor("console "))

        // Resize: too small, then back.
        s.tmux("resize-window", "-t", s.name, "-x", "60", "-y", "15")
        #expect(await s.waitFor("terminal too small: 60x15, need 80x24"))
        s.tmux("resize-window", "-t", s.name, "-x", "100", "-y", "30")
        #expect(await s.waitFor("Request log"))

        // Quit: the gateway stops gracefully and the terminal is handed back.
        s.keys("Escape")
        s.keys("q")
        #expect(await s.waitFor("EXIT=0", timeout: 15))
        #expect(s.screen.contains("shutting down"))
        #expect(!s.screen.contains("Request log"))
    }

    @Test func sigtermRestoresTheTerminal() async throws {
        let s = Session()
        try s.start(width: 90, height: 30)
        defer { s.stop() }
        #expect(await s.waitFor("Request log"))
        let pid = s.tmux("list-panes", "-t", s.name, "-F", "#{pane_pid}").trimmingCharacters(in: .whitespacesAndNewlines)
        // The pane runs a shell; signal its voicegate child.
        s.run("/usr/bin/pkill", ["-TERM", "-P", pid, "-f", "voicegate"])
        #expect(await s.waitFor("EXIT=0", timeout: 15))
        #expect(!s.screen.contains("Request log"))
    }
}
