import AsyncHTTPClient
import Foundation
import Hummingbird
import InMemoryLogging
import Logging
import NIOCore
import NIOPosix
import ServiceLifecycle
import SovitsDouble
@testable import VoiceGateCore

/// A running gateway (and, unless told otherwise, a GPT-SoVITS double behind it), both on real sockets.
struct TestGateway {
    static let apiKey = "test-key-0123456789abcdef"
    let gateway: Gateway
    let double: SovitsDouble?
    let baseURL: String
    var port: Int { Int(baseURL.split(separator: ":").last!)! }
    let client: HTTPClient
    let logs: InMemoryLogHandler
    let dataDir: String
    /// Starts the gateway's graceful shutdown (as SIGTERM would) while the test goes on.
    let beginShutdown: @Sendable () async -> Void

    enum Upstream {
        /// The api_v2 double with these options.
        case double(SovitsDoubleOptions)
        /// A base URL where nothing listens.
        case refused
        /// No SOVITS_BASE_URL: the embedded espeak-ng engine.
        case embedded
        /// An upstream the test runs itself.
        case url(String)
        /// Several upstreams the test runs itself (`SOVITS_WORKERS`).
        case workers([String])
    }

    /// Starts everything, runs `body`, then shuts everything down gracefully.
    /// `dataDir`: a folder the test owns (to start a second gateway on the same store); otherwise a fresh one,
    /// removed afterwards.
    static func run(upstream: Upstream = .double(.init()), env: [String: String] = [:], dataDir: String? = nil,
                    _ body: @Sendable (TestGateway) async throws -> Void) async throws {
        let ownsDataDir = dataDir == nil
        let dataDir = dataDir ?? NSTemporaryDirectory() + "voicegate-test-" + UUID().uuidString
        defer { if ownsDataDir { try? FileManager.default.removeItem(atPath: dataDir) } }
        let logs = InMemoryLogHandler()
        var logger = Logger(label: "test") { _ in logs }
        logger.logLevel = .info
        let quiet = Logger(label: "quiet") { _ in SwiftLogNoOpLogHandler() }
        // The upstream and queue bounds are far above what any test waits for: they only end a test that went wrong.
        // At 5 s the suite's own load on 2 cores (gateways, PostgreSQL clusters starting beside them) reached them.
        var vars = ["API_KEY": apiKey, "PORT": "0", "DATA_DIR": dataDir, "HEALTH_INTERVAL": "0.2", "SOVITS_TIMEOUT": "20",
                    "QUEUE_TIMEOUT": "20"]
        let client = HTTPClient(eventLoopGroupProvider: .singleton)
        do {
            try await runServices()
        } catch {
            try? await client.shutdown()
            throw error
        }
        try await client.shutdown()

        func runServices() async throws {
        try await withThrowingTaskGroup(of: Void.self) { tasks in
            var groups: [ServiceGroup] = []
            var double: SovitsDouble?
            var closedPort: ClosedPort?
            switch upstream {
            case .double(let options):
                let d = SovitsDouble(options: options)
                double = d
                let port = PortPromise()
                let app = Application(router: d.makeRouter(), configuration: .init(address: .hostname("127.0.0.1", port: 0)),
                                      onServerRunning: { port.fulfil($0.localAddress!.port!) }, logger: quiet)
                let group = ServiceGroup(configuration: .init(services: [app], logger: quiet))
                groups.append(group)
                tasks.addTask { try await group.run() }
                vars["SOVITS_BASE_URL"] = "http://127.0.0.1:\(await port.value())"
            case .refused:
                let port = try ClosedPort()
                closedPort = port
                vars["SOVITS_BASE_URL"] = "http://127.0.0.1:\(port.port)"
            case .embedded:
                break
            case .url(let url):
                vars["SOVITS_BASE_URL"] = url
            case .workers(let urls):
                vars["SOVITS_WORKERS"] = urls.joined(separator: ",")
            }
            vars.merge(env) { _, new in new }
            let gateway = try await Gateway(config: try GatewayConfig.from(vars), logger: logger)
            let port = PortPromise()
            let app = gateway.makeApplication { port.fulfil($0.localAddress!.port!) }
            let group = ServiceGroup(configuration: .init(services: gateway.backgroundServices + [app], logger: quiet))
            groups.insert(group, at: 0)
            tasks.addTask { try await group.run() }
            let harness = TestGateway(gateway: gateway, double: double, baseURL: "http://127.0.0.1:\(await port.value())",
                                      client: client, logs: logs, dataDir: dataDir,
                                      beginShutdown: { await group.triggerGracefulShutdown() })
            var failure: (any Error)?
            do { try await body(harness) } catch { failure = error }
            for group in groups { await group.triggerGracefulShutdown() }
            try await tasks.waitForAll()
            withExtendedLifetime(closedPort) {}
            if let failure { throw failure }
        }
        }
    }

    /// A fresh folder for `run(dataDir:)`; the caller removes it.
    static func makeDataDir() -> String { NSTemporaryDirectory() + "voicegate-test-" + UUID().uuidString }

    /// A key made through the admin API; returns its secret.
    func makeKey(_ name: String, role: String = "client", limits: [String: Int] = [:]) async throws -> String {
        var body: [String: Any] = ["name": name, "role": role]
        for (k, v) in limits { body[k] = v }
        let r = try await request(.POST, "/api/v1/keys", headers: [("Content-Type", "application/json")],
                                  body: try JSONSerialization.data(withJSONObject: body))
        guard r.status == 201, let secret = r.json["key"] as? String else {
            throw TestFailure("POST /api/v1/keys answered \(r.status): \(String(decoding: r.body, as: UTF8.self))")
        }
        return secret
    }

    /// A port nobody listens on: bound, read, and released again.
    static func unusedPort() throws -> Int {
        let channel = try ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton).bind(host: "127.0.0.1", port: 0).wait()
        let port = channel.localAddress!.port!
        try channel.close().wait()
        return port
    }
}

/// Hands the port a server listens on from `onServerRunning` to the test.
final class PortPromise: Sendable {
    private let stream = AsyncStream<Int>.makeStream()

    func fulfil(_ port: Int) { stream.continuation.yield(port) }

    func value() async -> Int {
        for await port in stream.stream { return port }
        return 0
    }
}

struct TestFailure: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
