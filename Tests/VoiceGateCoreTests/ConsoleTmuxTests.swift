import Foundation
import NIOPosix
import Subprocess
import SystemPackage
import Testing
@testable import VoiceGateCore

/// The real binary under tmux, driven as an operator would: start, health and uptime in the header,
/// a request from another client in the log, a synthesis from the form to a file, resize, quit.
let tmuxAvailable = FileManager.default.isExecutableFile(atPath: "/usr/bin/tmux")

@Suite("The console binary under tmux", .serialized, .timeLimit(.minutes(2)), .enabled(if: tmuxAvailable, "tmux is not installed (apt-get install tmux)"))
struct ConsoleTmuxTests {
    static var binary: String {
        URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent("voicegate").path
    }

    /// One console under its own tmux server (`-L`), so a test neither meets nor leaves behind anyone else's.
    ///
    /// Commands run through swift-subprocess, not Foundation's `Process`: the first tmux command forks the
    /// server, and Foundation lets that daemon inherit the socket it watches for the child's exit, so its
    /// `waitUntilExit` never returns on a machine where no tmux server was running yet.
    struct Session {
        let name = "vg-test-\(UInt32.random(in: 0...UInt32.max))"
        let dir = NSTemporaryDirectory() + "vg-tmux-" + UUID().uuidString
        var port = try! TestGateway.unusedPort()

        /// Starts the console in a detached session, runs `body`, and always tears the session down.
        static func with(width: Int = 120, height: Int = 40, port: Int? = nil, _ body: (Session) async throws -> Void) async throws {
            var session = Session()
            if let port { session.port = port }
            try FileManager.default.createDirectory(atPath: session.dir, withIntermediateDirectories: true)
            await session.tmux("new-session", "-d", "-s", session.name, "-x", "\(width)", "-y", "\(height)", "-c", session.dir,
                               "env LANG=C.UTF-8 PORT=\(session.port) HEALTH_INTERVAL=0.5 \(ConsoleTmuxTests.binary); echo EXIT=$?; sleep 30")
            var failure: (any Error)?
            do { try await body(session) } catch { failure = error }
            await session.tmux("kill-server")
            try? FileManager.default.removeItem(atPath: session.dir)
            if let failure { throw failure }
        }

        @discardableResult
        func tmux(_ args: String...) async -> String { await tmux(args) }

        /// tmux on this session's own server.
        @discardableResult
        func tmux(_ args: [String]) async -> String { await run("/usr/bin/tmux", ["-L", name] + args) }

        @discardableResult
        func run(_ executable: String, _ args: [String]) async -> String {
            let result = try? await Subprocess.run(.path(FilePath(executable)), arguments: Arguments(args),
                                                   output: .string(limit: 1 << 20), error: .discarded)
            return result?.standardOutput ?? ""
        }

        func screen() async -> String { await tmux("capture-pane", "-p", "-t", name) }

        func waitFor(_ text: String, timeout: Double = 10) async -> Bool {
            await eventually(timeout: timeout) { await screen().contains(text) }
        }

        func keys(_ keys: String...) async { await tmux(["send-keys", "-t", name] + keys) }
        func literal(_ text: String) async { await tmux("send-keys", "-t", name, "-l", text) }
    }

    @Test func operatorSessionFromStartToQuit() async throws {
        try await Session.with { s in
            #expect(await s.waitFor("VoiceGate \(Gateway.version)"))
            #expect(await s.waitFor("UP "))
            #expect(await s.waitFor("uptime 00:00:0"))
            #expect(await s.screen().contains("engine: espeak-ng (embedded) — set SOVITS_BASE_URL for GPT-SoVITS"))

            // Another client's request (curl) appears in the log.
            #expect(await s.run("/usr/bin/curl", ["-s", "http://127.0.0.1:\(s.port)/health"]).contains("\"healthy\""))
            #expect(await s.waitFor("GET /health"))

            // Fill the form and synthesize to a file.
            await s.keys("Tab")
            await s.keys("C-u")
            await s.literal("Testing the console from tmux.")
            await s.keys("C-r")
            #expect(await s.waitFor("Saved ", timeout: 20))
            let outputs = try FileManager.default.contentsOfDirectory(atPath: s.dir + "/data/output")
            #expect(outputs.count == 1 && outputs[0].hasSuffix(".wav"))
            let wav = try Data(contentsOf: URL(fileURLWithPath: s.dir + "/data/output/" + outputs[0]))
            #expect(WAVHeader.parse([UInt8](wav.prefix(64)))?.sampleRate == 22050)
            #expect(await s.waitFor("console "))

            // Resize: too small, then back.
            await s.tmux("resize-window", "-t", s.name, "-x", "60", "-y", "15")
            #expect(await s.waitFor("terminal too small: 60x15, need 80x24"))
            await s.tmux("resize-window", "-t", s.name, "-x", "100", "-y", "30")
            #expect(await s.waitFor("Request log"))

            // Quit: the gateway stops gracefully and the terminal is handed back.
            await s.keys("Escape")
            await s.keys("q")
            #expect(await s.waitFor("EXIT=0", timeout: 15))
            #expect(await s.screen().contains("shutting down"))
            #expect(await !s.screen().contains("Request log"))
        }
    }

    /// A key made with the CLI while the console runs appears in its keys view; the console's synthesis counts
    /// against the name `console` in the log.
    @Test func aKeyAddedFromTheCLIShowsInTheKeysView() async throws {
        try await Session.with { s in
            #expect(await s.waitFor("UP "))
            let secret = await s.run(ConsoleTmuxTests.binary, ["keys", "add", "tmux-app", "--rpm", "7", "--data-dir", s.dir + "/data"])
            #expect(secret.count > 30)
            await s.keys("k")
            let seen = await s.waitFor("Keys (2)")
            #expect(seen)
            #expect(await s.waitFor("0/7"))
            #expect(await s.screen().contains("tmux-app"))
            #expect(!(await s.screen().contains(secret.trimmingCharacters(in: .whitespacesAndNewlines))))
            await s.keys("k")
            #expect(await s.waitFor("Request log"))
        }
    }

    @Test func ctrlRSynthesizesFromTheLogFocusItStartsIn() async throws {
        try await Session.with { s in
            #expect(await s.waitFor("fill the form, then Ctrl-R"))
            await s.keys("C-r")
            #expect(await s.waitFor("Saved ", timeout: 20))
            let outputs = try FileManager.default.contentsOfDirectory(atPath: s.dir + "/data/output")
            #expect(outputs.count == 1)
        }
    }

    /// Resizes a second apart, as a script or a tiling window manager makes them: each one is followed.
    @Test func quickSuccessiveResizesAreEachFollowed() async throws {
        try await Session.with(width: 100, height: 30) { s in
            #expect(await s.waitFor("Request log"))
            for _ in 0..<2 {
                await s.tmux("resize-window", "-t", s.name, "-x", "120", "-y", "40")
                await s.tmux("resize-window", "-t", s.name, "-x", "80", "-y", "24")
                try await Task.sleep(for: .seconds(1))
                await s.tmux("resize-window", "-t", s.name, "-x", "30", "-y", "8")
                #expect(await s.waitFor("too small: 30x8", timeout: 5))
                await s.tmux("resize-window", "-t", s.name, "-x", "80", "-y", "24")
                #expect(await eventually(timeout: 5) {
                    let screen = await s.screen()
                    return screen.contains("Request log") && !screen.contains("too small")
                })
            }
        }
    }

    @Test func aTakenPortStopsWithOneLineBeforeTheConsoleOpens() async throws {
        let taken = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton).bind(host: "127.0.0.1", port: 0).get()
        try await Session.with(port: taken.localAddress!.port!) { s in
            #expect(await s.waitFor("EXIT=1"))
            let screen = await s.screen()
            #expect(screen.contains("voicegate: cannot listen on 127.0.0.1:\(s.port): Address already in use"))
            #expect(!screen.contains("Request log"))
        }
        try await taken.close()
    }

    @Test func sigtermRestoresTheTerminal() async throws {
        try await Session.with(width: 90, height: 30) { s in
            #expect(await s.waitFor("Request log"))
            let pid = await s.tmux("list-panes", "-t", s.name, "-F", "#{pane_pid}").trimmingCharacters(in: .whitespacesAndNewlines)
            // The pane runs a shell; signal its voicegate child.
            await s.run("/usr/bin/pkill", ["-TERM", "-P", pid, "-f", "voicegate"])
            #expect(await s.waitFor("EXIT=0", timeout: 15))
            #expect(await !s.screen().contains("Request log"))
        }
    }
}
