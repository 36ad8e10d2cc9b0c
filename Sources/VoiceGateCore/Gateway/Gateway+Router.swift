import Hummingbird
import HummingbirdCore
import NIOCore

extension Gateway {
    /// The router with every route and middleware, for the application and for tests.
    public func makeRouter() -> Router<GatewayRequestContext> {
        let router = Router(context: GatewayRequestContext.self, options: .autoGenerateHeadEndpoints)
        // Middleware applies only to routes added after it, so all of it goes first.
        router.add(middleware: CORSPolicyMiddleware(origins: Set(config.corsOrigins)))
        router.add(middleware: RequestEventMiddleware(recorder: recorder))
        let known = KnownRoutes()
        router.add(middleware: MethodNotAllowedMiddleware(routes: known))
        let health = HealthController(monitor: monitor, pool: pool, engineName: service.engineName, version: config.appVersion,
                                      startedAt: startedAt, embedded: isEmbedded, api: config.sovitsAPI, store: storeLocation,
                                      storage: storage, gatewayName: config.gatewayName)
        health.addPublicRoutes(to: router)
        DocsController().addRoutes(to: router)
        MetricsController(metrics: metrics, keys: keys, lookup: keyLookup, pool: pool, log: log, monitor: monitor, connections: connections,
                          storage: { [storage, janitor, history] in
                              GatewayMetrics.StorageFigures(refusals: storage.refusals, uploadsRemoved: janitor.figures.removed,
                                                            uploadBytes: janitor.figures.keptBytes, historyWaiting: history.pendingCount)
                          },
                          isPublic: config.metricsPublic)
            .addRoutes(to: router)
        let api = router.group(RouterPath(config.apiPrefix)).add(middleware: APIKeyMiddleware(keys: keyLookup))
        health.addKeyedRoutes(to: api)
        SynthesizeController(references: references, limits: limits, service: service, voices: voices, meter: meter,
                             keepText: config.historyStoreText)
            .addRoutes(to: api)
        VoicesController(voices: voices, limits: limits).addRoutes(to: api)
        KeysController(administration: keyAdministration, meter: meter).addRoutes(to: api)
        WorkersController(pool: pool, setDraining: { [self] in try await self.setDraining($0, $1) },
                          holders: { [self] in self.holders(of: $0) })
            .addRoutes(to: api)
        GatewaysController(store: database, name: config.gatewayName).addRoutes(to: api)
        JobsController(store: database, voices: voices, files: jobFiles,
                       limits: JobSubmission.Limits(maxItems: config.jobMaxItems, maxCharacters: config.jobMaxChars),
                       callbacks: jobCallbacks, control: jobControl, wake: { [jobs] in jobs.wake() })
            .addRoutes(to: api)
        HistoryController(store: database, flush: { [storeSync] in await storeSync.sync() }).addRoutes(to: api)
        // OpenAI's paths are fixed (clients append /audio/speech to a base URL ending in /v1), whatever API_V1_PREFIX says.
        let openAI = router.group("v1").add(middleware: APIKeyMiddleware(keys: keyLookup))
        SpeechController(voices: voices, service: service, meter: meter, keepText: config.historyStoreText).addRoutes(to: openAI)
        let catalog = router.group("v1").add(middleware: APIKeyMiddleware(keys: keyLookup, required: !config.publicVoiceList))
        CatalogController(voices: voices, engineName: service.engineName).addRoutes(to: catalog)
        known.record(router.routes)
        return router
    }

    public func makeApplication(onServerRunning: @escaping @Sendable (any Channel) async -> Void = { _ in })
        -> some ApplicationProtocol {
        Application(
            router: makeRouter(),
            server: guardedHTTP1(),
            configuration: .init(address: .hostname(config.host, port: config.port), serverName: "VoiceGate/\(Self.version)"),
            onServerRunning: onServerRunning,
            logger: logger
        )
    }

    /// HTTP/1 behind the connection limits; the client deadlines (`ClientDeadlineHandler`) replace Hummingbird's
    /// idle timeout, which cannot tell a slow request head from a kept-alive connection.
    private func guardedHTTP1() -> HTTPServerBuilder {
        let gate = connections
        return HTTPServerBuilder { responder in
            let configuration = HTTP1Channel.Configuration(
                additionalChannelHandlers: [RequestPhaseHandler(), ProtocolErrorBody(), ExpectContinueHandler(), ClientCloseDetector(),
                                            UnreadBodyLimiter()],
                idleTimeout: nil)
            return GuardedHTTP1Channel(http: HTTP1Channel(responder: responder, configuration: configuration), gate: gate)
        }
    }
}
