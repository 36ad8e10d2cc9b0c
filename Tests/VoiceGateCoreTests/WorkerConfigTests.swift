import Foundation
import Testing
@testable import VoiceGateCore

@Suite("Which workers the gateway fronts")
struct WorkerConfigTests {
    static func file(_ name: String, _ text: String) throws -> String {
        let dir = NSTemporaryDirectory() + "vg-workers-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        let path = dir + "/" + name
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    @Test func sovitsWorkersNamesEachByItsHost() async throws {
        var c = try GatewayConfig.from(["SOVITS_WORKERS": "http://gpu1:9880, http://gpu2:9880/", "SOVITS_MAX_CONCURRENCY": "1"])
        #expect(try await WorkerCatalog.load(config: c).map(\.name) == ["gpu1", "gpu2"])
        #expect(try await WorkerCatalog.load(config: c).map(\.url) == ["http://gpu1:9880", "http://gpu2:9880"])
        c = try GatewayConfig.from(["SOVITS_WORKERS": "http://10.0.0.5:9880,http://10.0.0.5:9881"])
        #expect(try await WorkerCatalog.load(config: c).map(\.name) == ["10-0-0-5-9880", "10-0-0-5-9881"])
        // SOVITS_BASE_URL alone is one worker; nothing at all is the embedded engine.
        c = try GatewayConfig.from(["SOVITS_BASE_URL": "http://localhost:9880"])
        #expect(try await WorkerCatalog.load(config: c).map(\.name) == ["localhost"])
        #expect(try await WorkerCatalog.load(config: try GatewayConfig.from([:])).isEmpty)
        #expect(throws: ConfigError.self) { try GatewayConfig.from(["SOVITS_WORKERS": "http://gpu1:9880,gpu2:9880"]) }
        #expect(throws: ConfigError.self) { try GatewayConfig.from(["WORKER_POLICY": "random"]) }
    }

    @Test func aYAMLFileGivesEachWorkerItsTable() async throws {
        let path = try Self.file("workers.yaml", """
        workers: [gpu1, gpu2]
        gpu1:
          url: http://10.0.0.11:9880
          ref_path: /mnt/voicegate/refs
          concurrency: 1
          gpt_weights: GPT_weights_v2/alice-e15.ckpt
          sovits_weights: SoVITS_weights_v2/alice_e8_s200.pth
          tags: [4090, fast]
        gpu2:
          url: http://10.0.0.12:9880/
        """)
        let config = try GatewayConfig.from(["WORKERS_FILE": path, "SOVITS_MAX_CONCURRENCY": "2"])
        let specs = try await WorkerCatalog.load(config: config, environment: ["GPU2_REF_PATH": "/srv/refs"])
        #expect(specs == [
            WorkerSpec(name: "gpu1", url: "http://10.0.0.11:9880", refPath: "/mnt/voicegate/refs", concurrency: 1,
                       weights: ModelWeights(gpt: "GPT_weights_v2/alice-e15.ckpt", sovits: "SoVITS_weights_v2/alice_e8_s200.pth"),
                       tags: ["4090", "fast"]),
            // The environment (and .env) override the file, key by key; concurrency defaults to SOVITS_MAX_CONCURRENCY.
            WorkerSpec(name: "gpu2", url: "http://10.0.0.12:9880", refPath: "/srv/refs", concurrency: 2),
        ])
    }

    @Test func aJSONFileToo() async throws {
        let path = try Self.file("workers.json", #"{"workers": ["a"], "a": {"url": "https://gpu.example:443", "concurrency": 3}}"#)
        let specs = try await WorkerCatalog.load(config: try GatewayConfig.from(["WORKERS_FILE": path]))
        #expect(specs == [WorkerSpec(name: "a", url: "https://gpu.example:443", concurrency: 3)])
    }

    @Test(arguments: [
        "gpu1:\n  url: http://x:1\n",                                       // no workers list
        "workers: []\n",                                                    // empty
        "workers: [gpu1]\n",                                                // no table
        "workers: [gpu1]\ngpu1:\n  url: ftp://x\n",                         // not http
        "workers: [gpu1, gpu1]\ngpu1:\n  url: http://x:1\n",                // twice
        "workers: [\"../etc\"]\n",                                          // bad name
        "workers: [gpu1]\ngpu1:\n  url: http://x:1\n  concurrency: 0\n",    // concurrency
        "workers: [gpu1]\ngpu1:\n  url: http://x:1\n  gpt_weights: a.ckpt\n", // one of two weights
        "workers: [gpu1\n",                                                 // not YAML
        "",                                                                 // empty
    ])
    func mistakesStopWithOneClearLine(text: String) async throws {
        let path = try Self.file("workers.yaml", text)
        await #expect(throws: ConfigError.self) { try await WorkerCatalog.load(config: try GatewayConfig.from(["WORKERS_FILE": path])) }
    }

    /// swift-configuration's optional getters would read a mistyped value as absent: the default, silently.
    @Test(arguments: [
        ("workers.yaml", "workers: [gpu1]\ngpu1:\n  url: http://x:1\n  concurrency: two\n", "gpu1.concurrency must be a whole number"),
        ("workers.yaml", "workers: [gpu1]\ngpu1:\n  url: http://x:1\n  tags: fast\n", "gpu1.tags must be a list"),
        ("workers.yaml", "workers: [gpu1]\ngpu1:\n  url: [http://x:1]\n", "gpu1.url must be a string"),
        ("workers.json", #"{"workers": ["a"], "a": {"url": "http://x:1", "concurrency": "2"}}"#, "a.concurrency must be a whole number"),
        ("workers.json", #"{"workers": ["a"], "a": {"url": "http://x:1", "ref_path": 7}}"#, "a.ref_path must be a string"),
    ])
    func aMistypedValueIsNamedNotDefaulted(file: String, text: String, message: String) async throws {
        let path = try Self.file(file, text)
        let error = await #expect(throws: ConfigError.self) { try await WorkerCatalog.load(config: try GatewayConfig.from(["WORKERS_FILE": path])) }
        #expect(error?.description.contains(message) == true, "\(String(describing: error))")
    }

    @Test func aMistypedOverrideFromTheEnvironmentIsNamedToo() async throws {
        let path = try Self.file("workers.yaml", "workers: [gpu1]\ngpu1:\n  url: http://x:1\n  concurrency: 2\n")
        let error = await #expect(throws: ConfigError.self) {
            try await WorkerCatalog.load(config: try GatewayConfig.from(["WORKERS_FILE": path]), environment: ["GPU1_CONCURRENCY": "lots"])
        }
        #expect(error?.description.contains("gpu1.concurrency must be a whole number") == true, "\(String(describing: error))")
    }

    @Test func aMissingFileIsNamed() async throws {
        let config = try GatewayConfig.from(["WORKERS_FILE": "/nonexistent/workers.yaml"])
        let error = await #expect(throws: ConfigError.self) { try await WorkerCatalog.load(config: config) }
        #expect(error?.description.contains("/nonexistent/workers.yaml") == true)
    }
}

extension WorkerConfigTests {
    /// Found by fuzz-workers-file: a URL ending in `http://` lost one slash per normalization and stayed "valid".
    @Test func normalizingAWorkerURLTwiceChangesNothing() {
        for text in ["http://10.0.0.12http://", "http://gpu1:9880///", "https://gpu1/", "http://gpu1:9880"] {
            if let once = WorkerSpec.normalizedURL(text) {
                #expect(WorkerSpec.normalizedURL(once) == once, "\(text)")
                #expect(!once.hasSuffix("/"))
            }
        }
        #expect(WorkerSpec.normalizedURL("http://gpu1:9880///") == "http://gpu1:9880")
        #expect(WorkerSpec.normalizedURL("http://") == nil)
    }
}
