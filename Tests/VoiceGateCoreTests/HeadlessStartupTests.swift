import Foundation
import NIOPosix
import Subprocess
import SystemPackage
import Testing

/// `voicegate --server` as systemd starts it: what it prints when it cannot start.
@Suite("Headless startup")
struct HeadlessStartupTests {
    func runServer(_ environment: [String: String]) async throws -> (status: TerminationStatus, stdout: String, stderr: String) {
        let dir = NSTemporaryDirectory() + "vg-headless-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        var overrides: [Environment.Key: String?] = ["DATA_DIR": dir + "/data", "SOVITS_REF_DIR": dir + "/refs"]
        for (name, value) in environment { overrides[Environment.Key(stringLiteral: name)] = value }
        let result = try await Subprocess.run(.path(FilePath(ConsoleTmuxTests.binary)), arguments: ["--server"],
                                              environment: .inherit.updating(overrides), workingDirectory: FilePath(dir),
                                              output: .string(limit: 1 << 16), error: .string(limit: 1 << 16))
        return (result.terminationStatus, result.standardOutput, result.standardError)
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
        #expect(run.stderr == "voicegate: cannot listen on no-such-host.invalid:0: unknown host\n")
    }
}
