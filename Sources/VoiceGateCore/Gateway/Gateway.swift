import AsyncHTTPClient
import Foundation
import Hummingbird
import Logging
import NIOCore
import ServiceLifecycle

/// The embedded proxy core: configuration, keys, engine, queue, health, store, recorder and HTTP routes.
/// `voicegate --server` and the console both run exactly this.
public final class Gateway: Sendable {
    public static let version = "0.1.0"
    public static let embeddedHint = "set SOVITS_BASE_URL for GPT-SoVITS"

    public let config: GatewayConfig
    public let keySource: APIKeySource
    public let references: ReferenceStore
    /// A full disk, for the answers, `/health`, the metrics and the janitor.
    public let storage: StorageWatch
    /// Keeps the uploads within `UPLOAD_KEEP_HOURS` and `UPLOAD_MAX_MB`.
    public let janitor: UploadJanitor
    public let limits: ReferenceLimits
    public let service: SynthesisService
    public let pool: WorkerPool
    /// The workers' places on the board the gateways sharing a PostgreSQL store share.
    let board: WorkerLeaseBoard?
    public let monitor: HealthMonitor
    public let log: RequestLog
    public let recorder: RequestRecorder
    public let keys: KeyRing
    /// The ring, and the store for a key made elsewhere a moment ago (bounded).
    public let keyLookup: KeyLookup
    public let meter: UsageMeter
    public let database: any GatewayStore
    public let voices: VoiceLibrary
    public let storeLocation: StoreLocation
    let metrics: GatewayMetrics
    /// Open client connections against `MAX_CONNECTIONS` and `MAX_CONNECTIONS_PER_CLIENT`.
    public let connections: ConnectionGate
    let history: HistoryWriter
    let storeSync: StoreSync
    public let startedAt = Date()
    /// Runs the store's long-form jobs here (any gateway on the store may run any job).
    public let jobs: JobRunner
    public let jobFiles: JobFiles
    let jobCallbacks: JobCallbacks
    /// Every gateway sharing the store (this one included), as of the last second.
    public let roster = GatewayRoster()
    let httpClient: HTTPClient?
    let logger: Logger

    /// `descriptorLimit`: the soft `RLIMIT_NOFILE` the connection limits are derived from (the process's own).
    public init(config: GatewayConfig, logger: Logger, descriptorLimit: Int = DescriptorLimit.current().soft) async throws {
        self.config = config
        self.logger = logger
        connections = ConnectionGate(limits: try config.connectionLimits(descriptorLimit: descriptorLimit), logger: logger)
        let (apiKey, keySource) = try APIKeyStore.resolve(config: config)
        self.keySource = keySource
        storage = StorageWatch()
        references = ReferenceStore(directory: config.absoluteRefDir, watch: storage)
        if let problem = references.prepare() { throw ConfigError(problem) }
        limits = ReferenceLimits(config: config)
        storeLocation = try config.storeLocation
        database = try await storeLocation.open(logger: logger)
        do {
            // Gateways sharing a store share `default`: only an API_KEY set on purpose changes it there.
            let replacing = database.limitLedger == nil || keySource == .configured
            let key = try await KeyAdministration(store: database).ensureDefault(secret: apiKey, replacing: replacing)
            if key.keyHash != KeyRecord.hash(apiKey) {
                logger.warning("the store's admin key `default` was made by another gateway and is kept; this gateway's generated key does not work: set the same API_KEY on every gateway")
            }
            keys = KeyRing(try await database.keys())
        } catch {
            try? await database.close()
            throw error
        }
        keyLookup = KeyLookup(ring: keys, store: database)
        voices = VoiceLibrary(store: database, referenceDirectory: references.directory, aliases: config.voiceAliases, watch: storage)
        if let problem = voices.prepare() {
            try? await database.close()
            throw ConfigError(problem)
        }
        meter = UsageMeter(ledger: database.limitLedger)
        meter.refresh(day: meter.day, stored: (try? await database.usage(day: meter.day)) ?? [:])
        let specs = try await WorkerCatalog.load(config: config, environment: config.environment)
        var workers: [Worker] = []
        if specs.isEmpty {
            httpClient = nil
            let engine = EspeakEngine(command: config.espeakCommand, workDirectory: GatewayConfig.absolute(config.dataDir) + "/tmp")
            workers = [Worker(spec: WorkerSpec(name: "espeak", url: "embedded", concurrency: config.maxConcurrency), slot: 0, engine: engine)]
        } else {
            let client = UpstreamHTTP.makeClient(readTimeout: config.sovitsTimeout)
            httpClient = client
            for (slot, spec) in specs.enumerated() {
                let engine: any SynthesisEngine = switch config.sovitsAPI {
                case .v2: SovitsV2Engine(client: client, baseURL: spec.url, upstreamRefDir: spec.refPath ?? config.upstreamRefDir)
                case .adapter: AdapterEngine(client: client, baseURL: spec.url)
                }
                workers.append(Worker(spec: spec, slot: slot, engine: engine))
            }
        }
        pool = WorkerPool(workers: workers, maxWaiting: config.queueMax, policy: config.workerPolicy, logger: logger)
        // Gateways on one PostgreSQL share their workers' places; SQLite is one gateway's own.
        if config.workersShared, let backend = (database as? SQLGatewayStore)?.backend as? PostgresBackend, httpClient != nil {
            board = WorkerLeaseBoard(backend: backend, gateway: config.gatewayName, pool: pool, logger: logger)
        } else {
            board = nil
        }
        service = SynthesisService(pool: pool, board: board, timeout: config.sovitsTimeout, queueTimeout: config.queueTimeout)
        monitor = HealthMonitor(pool: pool, store: references, voices: voices, interval: config.healthInterval)
        // Sweeps at least twice within the grace, so a full disk is relieved as soon as the grace allows.
        janitor = UploadJanitor(store: references, retention: config.uploadRetention, watch: storage,
                                interval: .milliseconds(Int64(min(60, config.uploadRetention.graceSeconds / 2) * 1000)), logger: logger)
        log = RequestLog()
        metrics = GatewayMetrics()
        history = HistoryWriter()
        recorder = RequestRecorder(log: log, metrics: metrics, history: history, gatewayName: config.gatewayName, logger: logger)
        jobFiles = JobFiles(root: config.absoluteJobsDir)
        let store = database
        jobCallbacks = JobCallbacks(allowedHosts: config.jobCallbackHosts, keys: keys, logger: logger) { job in
            guard let items = try? await store.items(ofJob: job.id) else { return nil }
            return try? [UInt8](JobsController.encoder.encode(JobsController.json(JobResults(job: job, items: items), withItems: true)))
        }
        let synthesizer = JobItemSynthesizer(service: service, voices: voices, meter: meter, keys: keys, recorder: recorder, files: jobFiles,
                                             keepText: config.historyStoreText, apiPrefix: config.apiPrefix)
        jobs = JobRunner(store: database, gateway: config.gatewayName, synthesizer: synthesizer, files: jobFiles,
                         maxJobs: JobRunner.maxJobs(workerPlaces: pool.queue.maxConcurrency), keepDays: config.jobsDays, callbacks: jobCallbacks, logger: logger)
        let (name, address, started, log, pool) = (config.gatewayName, config.listenAddress, startedAt, log, pool)
        storeSync = StoreSync(store: database, keys: keys, meter: meter, history: history, historyDays: config.historyDays,
                              historyMaxRows: config.historyMaxRows, storage: storage,
                              presence: {
                                  GatewayPresence(name: name, address: address, version: Gateway.version, startedAt: started, seenAt: Date(),
                                                  inFlight: log.inFlight, waiting: pool.queue.snapshot.waiting)
                              },
                              roster: roster, logger: logger)
    }

    /// Drains (or resumes) a worker here and, with shared workers, for every gateway.
    @discardableResult
    public func setDraining(_ name: String, _ draining: Bool) async throws -> Worker.Snapshot? {
        guard let snapshot = draining ? pool.drain(name) : pool.resume(name) else { return nil }
        try await board?.setDraining(name, draining)
        return snapshot
    }

    /// The gateways running requests on a worker now (shared workers; this one's name alone otherwise).
    public func holders(of worker: Worker) -> [String] {
        if let board { return board.holders(of: worker.name) }
        return worker.snapshot.current.isEmpty ? [] : [config.gatewayName]
    }

    public var isEmbedded: Bool { pool.workers[0].engine is EspeakEngine }

    /// The short sample reference voice shipped in `assets/` (espeak-ng, 3.6 s).
    public var sampleVoice: Data { EmbeddedAssets.sampleVoice }

    public var keyAdministration: KeyAdministration { KeyAdministration(store: database, ring: keys) }

    /// Cancelling a job and redoing an item, for the API and the console.
    public var jobControl: JobControl { JobControl(store: database, wake: { [jobs] in jobs.wake() }) }

    public func healthReport() -> HealthReport {
        HealthReport(snapshot: monitor.snapshot, embeddedEngine: isEmbedded)
    }

    /// Background work that must run beside the HTTP server: the store's sync, the health monitor and the
    /// upstream client. Started before the server and stopped after it has drained, in reverse order.
    public var backgroundServices: [any Service] {
        var services: [any Service] = [storeSync, janitor]
        if let board { services.append(board) }
        if let httpClient { services.append(HTTPClientService(client: httpClient)) }
        services.append(monitor)
        // Last, so it stops first: its jobs go back to the store while the store and the upstream client still run.
        services.append(jobs)
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
            : "engine: \(service.engineName) at \(pool.workers.map(\.engine.target).joined(separator: ", ")) (SOVITS_API=\(config.sovitsAPI.rawValue)\(pool.workers.count > 1 ? ", \(pool.workers.count) workers" : ""))"
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
