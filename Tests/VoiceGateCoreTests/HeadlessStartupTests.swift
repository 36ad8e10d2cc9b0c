import Foundation
import NIOPosix
import Subprocess
import SystemPackage
import Testing

/// `voicegate --server` as systemd starts it: what it prints when it cannot start.
@Suite("Headless startup")
struct HeadlessStartupTests {
    /// Runs `body` in a fresh working folder (removed afterwards) with an environment that keeps the server's
    /// files there, `overrides` applied (nil unsets).
    func inWorkDir<T>(_ overrides: [String: String?], _ body: (_ dir: String, _ environment: Environment) async throws -> T)
        async throws -> T {
        let dir = NSTemporaryDirectory() + "vg-headless-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        var all: [Environment.Key: String?] = ["DATA_DIR": dir + "/data", "SOVITS_REF_DIR": dir + "/refs"]
        for (name, value) in overrides { all[Environment.Key(stringLiteral: name)] = value }
        return try await body(dir, .inherit.updating(all))
    }

    func runServer(_ overrides: [String: String?]) async throws -> (status: TerminationStatus, stderr: String) {
        try await inWorkDir(overrides) { dir, environment in
            // Bounded, so that a server that starts after all cannot hang the suite.
            let result = try await Subprocess.run(.path("/usr/bin/timeout"), arguments: ["60", ConsoleTmuxTests.binary, "--server"],
                                                  environment: environment, workingDirectory: FilePath(dir),
                                                  output: .discarded, error: .string(limit: 1 << 16))
            return (result.terminationStatus, result.standardError)
        }
    }

    @Test func aGeneratedKeyIsAnnouncedWhateverTheLogLevelAndSIGTERMExits0() async throws {
        // Start, wait until it serves (LOG_LEVEL=error hides "listening"), then stop it as systemd would.
        let port = try TestGateway.unusedPort()
        let script = """
            "$0" --server 2>"$1/stderr" & pid=$!
            for i in $(seq 200); do curl -s -o /dev/null "http://127.0.0.1:$2/health" && break; sleep 0.05; done
            kill -TERM $pid; wait $pid; echo "exit=$?"
            """
        try await inWorkDir(["API_KEY": nil, "LOG_LEVEL": "error", "PORT": String(port)]) { dir, environment in
            let result = try await Subprocess.run(.path("/usr/bin/timeout"),
                                                  arguments: ["60", "/bin/sh", "-c", script, ConsoleTmuxTests.binary, dir, String(port)],
                                                  environment: environment, workingDirectory: FilePath(dir),
                                                  output: .string(limit: 1 << 16), error: .discarded)
            let stderr = try String(contentsOfFile: dir + "/stderr", encoding: .utf8)
            #expect(stderr.contains("API key: generated and saved to \(dir)/data/api_key (owner-only)"))
            #expect(result.standardOutput.contains("exit=0"))
            let key = try String(contentsOfFile: dir + "/data/api_key", encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)
            #expect(key.count >= 32 && !stderr.contains(key))
        }
    }

    @Test func aTakenPortIsOneClearLineAndExit1() async throws {
        let taken = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton).bind(host: "127.0.0.1", port: 0).get()
        let port = taken.localAddress!.port!
        let run = try await runServer(["PORT": String(port), "HOST": "127.0.0.1"])
        try await taken.close()
        #expect(run.status == .exited(1))
        #expect(run.stderr == "voicegate: cannot listen on 127.0.0.1:\(port): Address already in use\n")
    }

    @Test func anUnknownHostIsOneClearLineAndExit1() async throws {
        let run = try await runServer(["PORT": "0", "HOST": "no-such-host.invalid"])
        #expect(run.status == .exited(1))
        // Whatever the machine's resolver does with a reserved name, startup stops with one line about it.
        #expect(run.stderr.hasPrefix("voicegate: cannot listen on no-such-host.invalid:0: "))
        #expect(run.stderr.filter { $0 == "\n" }.count == 1)
    }
}
