import Foundation

/// Which upstream protocol the gateway speaks.
public enum UpstreamKind: String, Sendable, CaseIterable {
    /// GPT-SoVITS `api_v2.py`: JSON `POST /tts` with reference paths on a shared disk.
    case v2
    /// The seed's adapter protocol: multipart `POST /synthesize`, `GET /health`.
    case adapter
}

/// Every setting of the gateway, resolved from flags over environment over `.env` over defaults.
public struct GatewayConfig: Sendable {
    public var appName = "Voice Cloning API"
    public var appVersion = "1.0.0"
    public var debug = false
    public var apiPrefix = "/api/v1"
    public var apiKey: String?
    public var corsOrigins = ["http://localhost:3000", "http://localhost:5173"]
    /// nil means "not configured": the embedded espeak-ng engine serves.
    public var sovitsBaseURL: String?
    public var sovitsTimeout: Double = 300
    public var maxUploadSize = 10_485_760
    public var allowedAudioFormats: Set<AudioFormat> = Set(AudioFormat.allCases)
    public var logLevel = "info"
    public var host = "127.0.0.1"
    public var port = 8000
    public var sovitsAPI = UpstreamKind.v2
    public var refDir = "./data/refs"
    /// The folder as GPT-SoVITS sees it; nil means the same absolute path as `refDir`.
    public var refPath: String?
    public var maxConcurrency = 1
    public var queueMax = 32
    public var queueTimeout: Double = 120
    public var refMinSeconds = 3.0
    public var refMaxSeconds = 10.0
    public var dataDir = "./data"
    public var healthInterval: Double = 5
    public var shutdownGrace: Double = 30
    /// A connection that sends nothing for this long is closed: a kept-alive one, or an upload that stalled
    /// (its partial file is removed). Waiting for the upstream does not count: the request has been read.
    public var clientIdleTimeout: Double = 60
    /// `CLIENT_HEADER_TIMEOUT`: a request head must be complete this long after the connection opened (or its
    /// next request began), however slowly it trickles in.
    public var clientHeaderTimeout: Double = 20
    /// `CLIENT_BODY_MIN_RATE`: bytes a second below which an upload may lose its place to a newcomer at `MAX_CONNECTIONS`.
    public var clientBodyMinRate = 1024
    /// `MAX_CONNECTIONS`: open client connections in all; nil derives it from the descriptor limit.
    public var maxConnections: Int?
    /// `MAX_CONNECTIONS_PER_CLIENT`: open connections from one address; nil is a quarter of `MAX_CONNECTIONS`.
    public var maxConnectionsPerClient: Int?
    public var espeakCommand = "espeak-ng"
    /// Where keys, usage and history live; nil means `sqlite://DATA_DIR/voicegate.db`.
    public var storeURL: String?
    public var historyDays = 30
    /// `JOB_MAX_ITEMS`: the most items one job may have.
    public var jobMaxItems = 2000
    /// `JOB_MAX_CHARS`: the most characters one job may speak, all items together.
    public var jobMaxChars = 500_000
    /// `JOBS_DAYS`: a finished job and its files are kept this long.
    public var jobsDays = 7
    /// `JOB_CALLBACK_HOSTS`: the hosts a job's `callback_url` may name (nil: any but this machine's own; `none`: no
    /// callbacks).
    public var jobCallbackHosts: [String]?
    /// `JOBS_DIR`: the jobs' audio; nil is `DATA_DIR/jobs`, or `SOVITS_REF_DIR/jobs` (the folder gateways sharing a
    /// PostgreSQL store share) when the store is PostgreSQL.
    public var jobsDir: String?
    /// `UPLOAD_KEEP_HOURS`: an uploaded reference not used for this long is removed.
    public var uploadKeepHours = 24.0
    /// `UPLOAD_MAX_MB`: the uploaded references' total; past it the least recently used go first.
    public var uploadMaxMB = 2048.0
    /// `HISTORY_MAX_ROWS`: the newest rows kept whatever their age, so a busy gateway's history has a size.
    public var historyMaxRows = 1_000_000
    public var historyStoreText = false
    public var metricsPublic = false
    /// `VOICE_ALIASES`: OpenAI's voice names (or any) mapped to saved voices.
    public var voiceAliases = VoiceAliases()
    /// `PUBLIC_VOICE_LIST`: the voice and model lists answer without a key (Open WebUI asks without one).
    public var publicVoiceList = false
    /// `SOVITS_WORKERS`: several api_v2 servers, comma-separated URLs (each takes `SOVITS_MAX_CONCURRENCY`).
    public var sovitsWorkers: [String] = []
    /// `WORKERS_FILE`: the workers in YAML or JSON, with names, reference paths, weights and tags.
    public var workersFile: String?
    /// `WORKER_POLICY`: `affinity` (weights already loaded first) or `round-robin` (for comparison).
    public var workerPolicy = FairQueue.Policy.affinity
    /// `GATEWAY_NAME`: this gateway among several sharing one store (history rows and the gateways view name it).
    public var gatewayName = GatewayConfig.hostName
    /// `WORKERS_SHARED`: with a PostgreSQL store, the workers' places are claimed there, so that gateways listing
    /// the same workers never overload one. `false` for gateways that each have workers of their own: they then
    /// dispatch from memory, also while the database is gone.
    public var workersShared = true
    /// Every variable the environment and `.env` hold, for the workers file's overrides.
    public var environment: [String: String] = [:]

    public init() {}

    /// The names this gateway reads, in the order `.env.example` lists them.
    public static let variableNames = [
        "APP_NAME", "APP_VERSION", "DEBUG", "API_V1_PREFIX", "API_KEY", "CORS_ORIGINS", "SOVITS_BASE_URL",
        "SOVITS_TIMEOUT", "MAX_UPLOAD_SIZE", "ALLOWED_AUDIO_FORMATS", "LOG_LEVEL", "HOST", "PORT", "SOVITS_API",
        "SOVITS_REF_DIR", "SOVITS_REF_PATH", "SOVITS_MAX_CONCURRENCY", "QUEUE_MAX", "QUEUE_TIMEOUT",
        "REF_MIN_SECONDS", "REF_MAX_SECONDS", "DATA_DIR", "HEALTH_INTERVAL", "SHUTDOWN_GRACE", "CLIENT_IDLE_TIMEOUT",
        "CLIENT_HEADER_TIMEOUT", "CLIENT_BODY_MIN_RATE", "MAX_CONNECTIONS", "MAX_CONNECTIONS_PER_CLIENT",
        "ESPEAK_COMMAND", "STORE_URL", "GATEWAY_NAME", "WORKERS_SHARED", "HISTORY_DAYS", "JOB_MAX_ITEMS", "JOB_MAX_CHARS", "JOBS_DAYS", "JOBS_DIR", "JOB_CALLBACK_HOSTS", "HISTORY_MAX_ROWS", "UPLOAD_KEEP_HOURS", "UPLOAD_MAX_MB", "HISTORY_STORE_TEXT", "METRICS_PUBLIC", "VOICE_ALIASES", "PUBLIC_VOICE_LIST",
        "SOVITS_WORKERS", "WORKERS_FILE", "WORKER_POLICY",
    ]

    /// Builds a configuration from a merged set of variables (later sources already applied over earlier).
    public static func from(_ vars: [String: String]) throws -> GatewayConfig {
        var c = GatewayConfig()
        let v = { (name: String) -> String? in
            guard let value = vars[name] else { return nil }
            return value
        }
        if let x = v("APP_NAME") { c.appName = x }
        if let x = v("APP_VERSION") { c.appVersion = x }
        if let x = v("DEBUG") { c.debug = try bool(x, "DEBUG") }
        if let x = v("API_V1_PREFIX") {
            guard x.hasPrefix("/"), !x.hasSuffix("/") else { throw ConfigError("API_V1_PREFIX must start with / and not end with /: \(x)") }
            c.apiPrefix = x
        }
        if let x = v("API_KEY"), !x.isEmpty {
            guard x.count >= 16 else { throw ConfigError("API_KEY must be at least 16 characters") }
            c.apiKey = x
        }
        if let x = v("CORS_ORIGINS") {
            c.corsOrigins = x.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        }
        if let x = v("SOVITS_BASE_URL"), !x.isEmpty {
            guard let url = URL(string: x), let scheme = url.scheme, ["http", "https"].contains(scheme), url.host != nil else {
                throw ConfigError("SOVITS_BASE_URL must be an http(s) URL: \(x)")
            }
            c.sovitsBaseURL = x.hasSuffix("/") ? String(x.dropLast()) : x
        }
        if let x = v("SOVITS_TIMEOUT") { c.sovitsTimeout = try seconds(x, "SOVITS_TIMEOUT") }
        if let x = v("MAX_UPLOAD_SIZE") { c.maxUploadSize = try int(x, "MAX_UPLOAD_SIZE", min: 1024) }
        if let x = v("ALLOWED_AUDIO_FORMATS") {
            var formats = Set<AudioFormat>()
            for name in x.split(separator: ",").map({ $0.trimmingCharacters(in: .whitespaces).lowercased() }) where !name.isEmpty {
                guard let f = AudioFormat(rawValue: name) else {
                    throw ConfigError("ALLOWED_AUDIO_FORMATS: unknown format \(name) (known: wav, mp3, flac, ogg)")
                }
                formats.insert(f)
            }
            guard !formats.isEmpty else { throw ConfigError("ALLOWED_AUDIO_FORMATS names no format") }
            c.allowedAudioFormats = formats
        }
        if let x = v("LOG_LEVEL") {
            let level = x.lowercased()
            guard ["trace", "debug", "info", "notice", "warning", "error", "critical"].contains(level) else {
                throw ConfigError("LOG_LEVEL must be one of trace, debug, info, notice, warning, error, critical: \(x)")
            }
            c.logLevel = level
        }
        if let x = v("HOST"), !x.isEmpty { c.host = x }
        if let x = v("PORT") { c.port = try int(x, "PORT", min: 0, max: 65535) }
        if let x = v("SOVITS_API") {
            guard let kind = UpstreamKind(rawValue: x.lowercased()) else { throw ConfigError("SOVITS_API must be v2 or adapter: \(x)") }
            c.sovitsAPI = kind
        }
        if let x = v("DATA_DIR"), !x.isEmpty { c.dataDir = x; c.refDir = x + "/refs" }
        if let x = v("SOVITS_REF_DIR"), !x.isEmpty { c.refDir = x }
        if let x = v("SOVITS_REF_PATH"), !x.isEmpty { c.refPath = x }
        if let x = v("SOVITS_MAX_CONCURRENCY") { c.maxConcurrency = try int(x, "SOVITS_MAX_CONCURRENCY", min: 1, max: 1024) }
        if let x = v("QUEUE_MAX") { c.queueMax = try int(x, "QUEUE_MAX", min: 0, max: 1_000_000) }
        if let x = v("QUEUE_TIMEOUT") { c.queueTimeout = try seconds(x, "QUEUE_TIMEOUT") }
        if let x = v("REF_MIN_SECONDS") { c.refMinSeconds = try seconds(x, "REF_MIN_SECONDS", allowZero: true) }
        if let x = v("REF_MAX_SECONDS") { c.refMaxSeconds = try seconds(x, "REF_MAX_SECONDS") }
        guard c.refMinSeconds < c.refMaxSeconds else { throw ConfigError("REF_MIN_SECONDS must be below REF_MAX_SECONDS") }
        if let x = v("HEALTH_INTERVAL") { c.healthInterval = try seconds(x, "HEALTH_INTERVAL") }
        if let x = v("SHUTDOWN_GRACE") { c.shutdownGrace = try seconds(x, "SHUTDOWN_GRACE", allowZero: true) }
        if let x = v("CLIENT_IDLE_TIMEOUT") { c.clientIdleTimeout = try seconds(x, "CLIENT_IDLE_TIMEOUT") }
        if let x = v("CLIENT_HEADER_TIMEOUT") { c.clientHeaderTimeout = try seconds(x, "CLIENT_HEADER_TIMEOUT") }
        if let x = v("CLIENT_BODY_MIN_RATE") { c.clientBodyMinRate = try int(x, "CLIENT_BODY_MIN_RATE", min: 0, max: 1 << 30) }
        if let x = v("MAX_CONNECTIONS"), !x.isEmpty { c.maxConnections = try int(x, "MAX_CONNECTIONS", min: 1, max: 1_000_000) }
        if let x = v("MAX_CONNECTIONS_PER_CLIENT"), !x.isEmpty {
            c.maxConnectionsPerClient = try int(x, "MAX_CONNECTIONS_PER_CLIENT", min: 1, max: 1_000_000)
        }
        if let x = v("ESPEAK_COMMAND"), !x.isEmpty { c.espeakCommand = x }
        if let x = v("STORE_URL"), !x.isEmpty { c.storeURL = x }
        _ = try c.storeLocation
        if let x = v("WORKERS_SHARED") { c.workersShared = try bool(x, "WORKERS_SHARED") }
        if let x = v("GATEWAY_NAME"), !x.isEmpty {
            guard x.count <= 64, x.allSatisfy({ $0.isLetter || $0.isNumber || "._-".contains($0) }), x.allSatisfy(\.isASCII) else {
                throw ConfigError("GATEWAY_NAME must be 1-64 letters, digits, '.', '_' or '-' (got \(x.debugDescription))")
            }
            c.gatewayName = x
        }
        if let x = v("HISTORY_DAYS") { c.historyDays = try int(x, "HISTORY_DAYS", min: 1, max: 36500) }
        if let x = v("JOB_MAX_ITEMS") { c.jobMaxItems = try int(x, "JOB_MAX_ITEMS", min: 1, max: 100_000) }
        if let x = v("JOB_MAX_CHARS") { c.jobMaxChars = try int(x, "JOB_MAX_CHARS", min: 1, max: 100_000_000) }
        if let x = v("JOBS_DAYS") { c.jobsDays = try int(x, "JOBS_DAYS", min: 1, max: 36500) }
        if let x = v("JOBS_DIR"), !x.isEmpty { c.jobsDir = x }
        if let x = v("JOB_CALLBACK_HOSTS") {
            let hosts = x.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces).lowercased() }.filter { !$0.isEmpty }
            c.jobCallbackHosts = hosts == ["none"] ? [] : hosts
        }
        if let x = v("HISTORY_MAX_ROWS") { c.historyMaxRows = try int(x, "HISTORY_MAX_ROWS", min: 1000, max: 1_000_000_000) }
        if let x = v("UPLOAD_KEEP_HOURS") { c.uploadKeepHours = try seconds(x, "UPLOAD_KEEP_HOURS") }
        if let x = v("UPLOAD_MAX_MB") { c.uploadMaxMB = try seconds(x, "UPLOAD_MAX_MB") }
        if let x = v("HISTORY_STORE_TEXT") { c.historyStoreText = try bool(x, "HISTORY_STORE_TEXT") }
        if let x = v("METRICS_PUBLIC") { c.metricsPublic = try bool(x, "METRICS_PUBLIC") }
        if let x = v("VOICE_ALIASES") { c.voiceAliases = try VoiceAliases.parse(x).get() }
        if let x = v("PUBLIC_VOICE_LIST") { c.publicVoiceList = try bool(x, "PUBLIC_VOICE_LIST") }
        if let x = v("SOVITS_WORKERS") {
            for item in x.split(separator: ",").map({ $0.trimmingCharacters(in: .whitespaces) }) where !item.isEmpty {
                guard let url = WorkerSpec.normalizedURL(item) else { throw ConfigError("SOVITS_WORKERS: not an http(s) URL: \(item)") }
                c.sovitsWorkers.append(url)
            }
        }
        if let x = v("WORKERS_FILE"), !x.isEmpty { c.workersFile = x }
        if let x = v("WORKER_POLICY") {
            guard let policy = FairQueue.Policy(rawValue: x.lowercased()) else {
                throw ConfigError("WORKER_POLICY must be affinity or round-robin: \(x)")
            }
            c.workerPolicy = policy
        }
        return c
    }

    /// Absolute folder where uploads are stored.
    public var absoluteRefDir: String { Self.absolute(refDir) }

    /// Absolute folder of the jobs' audio: another gateway resuming a job must find the items already made.
    public var absoluteJobsDir: String {
        if let jobsDir { return Self.absolute(jobsDir) }
        if case .postgres = try? storeLocation { return absoluteRefDir + "/jobs" }
        return Self.absolute(dataDir) + "/jobs"
    }

    /// The reference folder as the upstream sees it.
    public var upstreamRefDir: String { refPath ?? absoluteRefDir }

    /// The connection limits under `descriptorLimit` (the soft `RLIMIT_NOFILE` once raised): what is set, else
    /// derived from it. A `MAX_CONNECTIONS` above what the limit allows is an error, not a crash waiting for a flood.
    public func connectionLimits(descriptorLimit: Int) throws -> ConnectionLimits {
        let ceiling = ConnectionLimits.ceiling(descriptorLimit: descriptorLimit)
        if let maxConnections, maxConnections > ceiling {
            throw ConfigError("MAX_CONNECTIONS=\(maxConnections) leaves too few of the \(descriptorLimit) file descriptors "
                + "(RLIMIT_NOFILE) for uploads and the gateway itself: at most \(ceiling), or raise the limit (systemd: LimitNOFILE=)")
        }
        let total = maxConnections ?? ConnectionLimits.defaultMaxConnections(descriptorLimit: descriptorLimit)
        return ConnectionLimits(maxConnections: total,
                                maxPerClient: min(total, maxConnectionsPerClient ?? ConnectionLimits.defaultMaxPerClient(maxConnections: total)),
                                headerTimeout: clientHeaderTimeout, idleTimeout: clientIdleTimeout, bodyMinRate: clientBodyMinRate)
    }

    /// An upload used within the longest a request may need it (queue, then the upstream) is never removed.
    public var uploadRetention: UploadRetention {
        UploadRetention(keepSeconds: uploadKeepHours * 3600, maxBytes: Int(uploadMaxMB * 1_048_576),
                        graceSeconds: queueTimeout + sovitsTimeout + 10, minFreeBytes: 2 * maxUploadSize)
    }

    public var storeLocation: StoreLocation {
        get throws { try StoreLocation.parse(storeURL, dataDir: dataDir) }
    }

    /// Where this gateway listens, as the other gateways' operators would reach it.
    public var listenAddress: String {
        let host = ["0.0.0.0", "::", ""].contains(host) ? Self.hostName : host
        return host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)"
    }

    /// The machine's name (`gethostname`), the default `GATEWAY_NAME`.
    public static var hostName: String {
        var buffer = [CChar](repeating: 0, count: 256)
        guard gethostname(&buffer, buffer.count) == 0 else { return "gateway" }
        let name = String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        return name.isEmpty ? "gateway" : String(name.prefix(64))
    }

    public static func absolute(_ path: String) -> String {
        let url = path.hasPrefix("/") ? URL(fileURLWithPath: path)
            : URL(fileURLWithPath: FileManager.default.currentDirectoryPath).appendingPathComponent(path)
        return url.standardizedFileURL.path
    }

    private static func bool(_ s: String, _ name: String) throws -> Bool {
        switch s.lowercased() {
        case "1", "true", "yes", "on": return true
        case "0", "false", "no", "off", "": return false
        default: throw ConfigError("\(name) must be true or false: \(s)")
        }
    }

    private static func int(_ s: String, _ name: String, min: Int, max: Int = Int.max) throws -> Int {
        guard let n = Int(s.trimmingCharacters(in: .whitespaces)), n >= min, n <= max else {
            throw ConfigError("\(name) must be a whole number from \(min)\(max == Int.max ? " up" : " to \(max)"): \(s)")
        }
        return n
    }

    private static func seconds(_ s: String, _ name: String, allowZero: Bool = false) throws -> Double {
        guard let n = Double(s.trimmingCharacters(in: .whitespaces)), n.isFinite, allowZero ? n >= 0 : n > 0 else {
            throw ConfigError("\(name) must be a number of seconds\(allowZero ? "" : " above 0"): \(s)")
        }
        return n
    }
}
