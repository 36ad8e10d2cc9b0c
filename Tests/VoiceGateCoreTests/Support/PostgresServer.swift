import Foundation
import Subprocess
import SystemPackage

/// A throwaway PostgreSQL server for the tests: Debian's `initdb` and `pg_ctl` (package `postgresql`) on a
/// temporary folder and a free loopback port, with fsync off (commits still reach the OS before they are acknowledged,
/// so a server killed by `stop()` loses nothing, as a real one would not). PostgreSQL refuses to run as root, so as root it runs
/// as the `postgres` user the package creates. Password authentication over TCP, as gateways connect.
/// A watcher stops it and removes its folder when the test process ends, however it ends.
final class PostgresServer: Sendable {
    static let user = "voicegate"
    static let password = "pg-test-secret"

    let port: Int
    let folder: String
    private let binDir: String

    /// The installed server's `bin` folder (the newest version), if any.
    static let binDir: String? = {
        let root = "/usr/lib/postgresql"
        let versions = ((try? FileManager.default.contentsOfDirectory(atPath: root)) ?? []).compactMap(Int.init).sorted()
        return versions.last.map { "\(root)/\($0)/bin" }.flatMap { FileManager.default.fileExists(atPath: $0 + "/initdb") ? $0 : nil }
    }()

    /// CI sets `VOICEGATE_TEST_POSTGRES=required`: a missing server then fails the tests instead of skipping them.
    static let available = binDir != nil || ProcessInfo.processInfo.environment["VOICEGATE_TEST_POSTGRES"] == "required"

    /// One server for every test that needs only a database of its own.
    static func shared() async throws -> PostgresServer { try await sharedServer.value }
    private static let sharedServer = Task { try await PostgresServer.start() }

    private init(port: Int, folder: String, binDir: String) {
        self.port = port
        self.folder = folder
        self.binDir = binDir
    }

    /// A new cluster, running.
    static func start() async throws -> PostgresServer {
        guard let binDir else { throw Failure("PostgreSQL is not installed (apt-get install postgresql)") }
        let folder = NSTemporaryDirectory() + "voicegate-pg-" + UUID().uuidString.prefix(8)
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        try password.write(toFile: folder + "/pwfile", atomically: true, encoding: .utf8)
        let server = PostgresServer(port: try freePort(), folder: folder, binDir: binDir)
        if getuid() == 0 { try await server.shell("chown -R postgres:postgres '\(folder)'", asServer: false) }
        try await server.shell("""
            '\(binDir)/initdb' -D '\(folder)/data' -U \(user) --pwfile='\(folder)/pwfile' --auth-host=scram-sha-256 \
            --auth-local=trust -E UTF8 --no-sync >'\(folder)/initdb.log' 2>&1
            """)
        try await server.startServer()
        // The watcher: when this test process is gone, the server and its folder go too.
        try await server.shell("""
            (setsid sh -c 'while [ -d /proc/\(getpid()) ]; do sleep 1; done; \
            "\(binDir)/pg_ctl" -D "\(folder)/data" stop -m immediate; rm -rf "\(folder)"' >/dev/null 2>&1 &)
            """)
        return server
    }

    /// `postgres://` for a new, empty database of the caller's own.
    func makeDatabase() async throws -> String {
        let name = "t_" + UUID().uuidString.prefix(12).lowercased().replacingOccurrences(of: "-", with: "")
        try await shell("PGPASSWORD='\(Self.password)' psql -h 127.0.0.1 -p \(port) -U \(Self.user) -d postgres -qc 'CREATE DATABASE \(name)'",
                        asServer: false)
        return url(database: name)
    }

    func url(database: String, password: String = PostgresServer.password) -> String {
        "postgres://\(Self.user):\(password)@127.0.0.1:\(port)/\(database)?sslmode=disable"
    }

    /// Stops at once, as a crashed or unplugged database would (connections dropped).
    func stop() async throws {
        try await shell("'\(binDir)/pg_ctl' -D '\(folder)/data' stop -m immediate >/dev/null")
    }

    func startServer() async throws {
        try await shell("""
            '\(binDir)/pg_ctl' -D '\(folder)/data' -l '\(folder)/server.log' -w -t 60 -o "-p \(port) -k '\(folder)' \
            -c listen_addresses=127.0.0.1 -c fsync=off -c full_page_writes=off -c max_connections=300" start >/dev/null
            """)
    }

    private func shell(_ command: String, asServer: Bool = true) async throws {
        let asUser = asServer && getuid() == 0
        let result = try await Subprocess.run(
            .path(asUser ? "/usr/sbin/runuser" : "/bin/sh"), arguments: Arguments(asUser ? ["-u", "postgres", "--", "/bin/sh", "-c", command] : ["-c", command]),
            workingDirectory: FilePath("/tmp"), output: .string(limit: 1 << 16), error: .string(limit: 1 << 16))
        guard result.terminationStatus.isSuccess else {
            let log = (try? String(contentsOfFile: folder + "/server.log", encoding: .utf8)) ?? ""
            throw Failure("\(command) failed: \(result.standardError ?? "") \(log.suffix(2000))")
        }
    }

    private static func freePort() throws -> Int {
        let probe = try ClosedPort()
        return probe.port
    }

    struct Failure: Error, CustomStringConvertible {
        let description: String
        init(_ description: String) { self.description = description }
    }
}
