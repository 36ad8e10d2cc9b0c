import AsyncHTTPClient
import Foundation
import Hummingbird
import Logging
import NIOCore
import ServiceLifecycle

/// The embedded proxy core: configuration, key, engine, queue, health, request log and HTTP routes.
/// `voicegate --server` and the console both run exactly this.
public final class Gateway: Sendable {
    public static let version = "0.1.0"
    public static let embeddedHint = "set SOVITS_BASE_URL for GPT-SoVITS"

    public let config: GatewayConfig
    public let keySource: APIKeySource
    public let apiKey: String
    let verifier: APIKeyVerifier
    public let store: ReferenceStore
    public let limits: ReferenceLimits
    public let service: SynthesisService
    public let monitor: HealthMonitor
    public let log: RequestLog
    public let startedAt = Date()
    let httpClient: HTTPClient?
    let logger: Logger

    public init(config: GatewayConfig, logger: Logger) throws {
        self.config = config
        self.logger = logger
        (apiKey, keySource) = try APIKeyStore.resolve(config: config)
        verifier = APIKeyVerifier(key: apiKey)
        store = ReferenceStore(directory: config.absoluteRefDir)
        if let problem = store.prepare() { throw ConfigError(problem) }
        limits = ReferenceLimits(config: config)
        let engine: any SynthesisEngine
        if let url = config.sovitsBaseURL {
            let client = UpstreamHTTP.makeClient(readTimeout: config.sovitsTimeout)
            httpClient = client
            switch config.sovitsAPI {
            case .v2: engine = SovitsV2Engine(client: client, baseURL: url, upstreamRefDir: config.upstreamRefDir)
            case .adapter: engine = AdapterEngine(client: client, baseURL: url)
            }
        } else {
            httpClient = nil
            engine = EspeakEngine(command: config.espeakCommand, workDirectory: GatewayConfig.absolute(config.dataDir) + "/tmp")
        }
        let queue = FairQueue(maxConcurrency: config.maxConcurrency, maxWaiting: config.queueMax)
        service = SynthesisService(engine: engine, queue: queue, timeout: config.sovitsTimeout, queueTimeout: config.queueTimeout)
        monitor = HealthMonitor(engine: engine, queue: queue, store: store, interval: config.healthInterval, logger: logger)
        log = RequestLog()
    }

    public var isEmbedded: Bool { config.sovitsBaseURL == nil }

    /// The short sample reference voice shipped in `assets/` (espeak-ng, 3.6 s).
    public var sampleVoice: Data { EmbeddedAssets.sampleVoice }

    /// Records a request that did not come over HTTP (the console's own syntheses) like any other:
    /// in the request log, the figures and the log lines.
    public func recordRequest(client: String, method: String, path: String, status: Int, started: ContinuousClock.Instant,
                              bytes: Int, failure: GatewayError?) {
        log.requestStarted()
        let event = RequestEvent(time: Date(), id: RequestID.make(), client: client, method: method, path: path, status: status,
                                 latency: 0, bytes: bytes, errorCode: failure?.code, message: failure?.message)
        RequestEventMiddleware.finish(event, started: started, bytes: bytes, failure: failure, log: log, logger: logger)
    }

    public func healthReport() -> HealthReport {
        HealthReport(snapshot: monitor.snapshot, embeddedEngine: isEmbedded)
    }

    /// The router with every route and middleware, for the application and for tests.
    public func makeRouter() -> Router<GatewayRequestContext> {
        let router = Router(context: GatewayRequestContext.self, options: .autoGenerateHeadEndpoints)
        // Middleware applies only to routes added after it, so all of it goes first.
        router.add(middleware: CORSPolicyMiddleware(origins: Set(config.corsOrigins)))
        router.add(middleware: RequestEventMiddleware(log: log, logger: logger))
        let known = KnownRoutes()
        router.add(middleware: MethodNotAllowedMiddleware(routes: known))
        let health = HealthController(gateway: self)
        health.addPublicRoutes(to: router)
        DocsController().addRoutes(to: router)
        let api = router.group(RouterPath(config.apiPrefix)).add(middleware: APIKeyMiddleware(verifier: verifier))
        health.addKeyedRoutes(to: api)
        SynthesizeController(gateway: self).addRoutes(to: api)
        known.record(router.routes)
        return router
    }

    public func makeApplication(onServerRunning: @escaping @Sendable (any Channel) async -> Void = { _ in })
        -> some ApplicationProtocol {
        Application(
            router: makeRouter(),
            server: .http1(configuration: .init(additionalChannelHandlers: [ProtocolErrorBody(), ExpectContinueHandler(), ClientCloseDetector(),
                                                                            UnreadBodyLimiter()],
                                                idleTimeout: .milliseconds(Int64(config.clientIdleTimeout * 1000)))),
            configuration: .init(address: .hostname(config.host, port: config.port), serverName: "VoiceGate/\(Self.version)"),
            onServerRunning: onServerRunning,
            logger: logger
        )
    }

    /// Background work that must run beside the HTTP server: the health monitor and the client's shutdown.
    public var backgroundServices: [any Service] {
        var services: [any Service] = []
        if let httpClient { services.append(HTTPClientService(client: httpClient)) }
        services.append(monitor)
        return services
    }

    /// One line for the startup log that never contains the key itself.
    public var keyDescription: String {
        switch keySource {
        case .configured: return "API key: from API_KEY"
        case .generated(let path): return "API key: generated and saved to \(path) (owner-only); send it as X-API-Key"
        case .loaded(let path): return "API key: read from \(path); send it as X-API-Key"
        }
    }

    public var engineDescription: String {
        isEmbedded ? "engine: espeak-ng (embedded) — \(Self.embeddedHint)"
            : "engine: \(service.engine.name) at \(service.engine.target) (SOVITS_API=\(config.sovitsAPI.rawValue))"
    }
}

/// Keeps the upstream client until everything else has stopped, then shuts it down.
struct HTTPClientService: Service {
    let client: HTTPClient
    func run() async throws {
        try? await gracefulShutdown()
        try await client.shutdown()
    }
}
