import Configuration
import Foundation
import SystemPackage

/// Which upstream servers the gateway fronts: `WORKERS_FILE` (YAML or JSON, read with swift-configuration, the
/// environment and `.env` overriding the file key by key), else `SOVITS_WORKERS` (URLs, comma-separated), else
/// `SOVITS_BASE_URL` alone: one worker. None of them: the embedded engine.
///
/// swift-configuration reads no arrays of tables, so the file lists the names and gives each its own table:
///
///     workers: [gpu1, gpu2]
///     gpu1:
///       url: http://10.0.0.11:9880
///       ref_path: /mnt/voicegate/refs
///       concurrency: 1
///       gpt_weights: GPT_weights_v2/alice-e15.ckpt
///       sovits_weights: SoVITS_weights_v2/alice_e8_s200.pth
///       tags: [4090]
///     gpu2:
///       url: http://10.0.0.12:9880
public enum WorkerCatalog {
    public static func load(config: GatewayConfig, environment: [String: String] = [:]) async throws -> [WorkerSpec] {
        if let file = config.workersFile {
            return try await fromFile(file, environment: environment, defaultConcurrency: config.maxConcurrency)
        }
        if !config.sovitsWorkers.isEmpty {
            let names = WorkerSpec.names(for: config.sovitsWorkers)
            return zip(names, config.sovitsWorkers).map { WorkerSpec(name: $0, url: $1, concurrency: config.maxConcurrency) }
        }
        if let url = config.sovitsBaseURL {
            return [WorkerSpec(name: WorkerSpec.names(for: [url])[0], url: url, concurrency: config.maxConcurrency)]
        }
        return []
    }

    static func fromFile(_ path: String, environment: [String: String], defaultConcurrency: Int) async throws -> [WorkerSpec] {
        let absolute = GatewayConfig.absolute(path)
        guard FileManager.default.isReadableFile(atPath: absolute) else {
            throw ConfigError("WORKERS_FILE: cannot read \(absolute)")
        }
        // Also keeps an empty file from Foundation's Data(contentsOf:), which leaks its buffer there (found by fuzz-workers-file).
        let size = (try? FileManager.default.attributesOfItem(atPath: absolute)[.size] as? Int) ?? 0
        guard size > 0 else { throw ConfigError("WORKERS_FILE \(absolute) is empty: it must list `workers`") }
        let file: any ConfigProvider
        do {
            if absolute.hasSuffix(".json") {
                file = try await FileProvider<JSONSnapshot>(filePath: FilePath(absolute))
            } else {
                file = try await FileProvider<YAMLSnapshot>(filePath: FilePath(absolute))
            }
        } catch {
            throw ConfigError("WORKERS_FILE \(absolute) is not valid \(absolute.hasSuffix(".json") ? "JSON" : "YAML"): \(error)")
        }
        let reader = ConfigReader(providers: [EnvironmentVariablesProvider(environmentVariables: environment), file])
        return try specs(from: reader, source: absolute, defaultConcurrency: defaultConcurrency)
    }

    /// The workers a configuration names, every mistake reported with the key it is under.
    static func specs(from reader: ConfigReader, source: String, defaultConcurrency: Int) throws -> [WorkerSpec] {
        func fail(_ text: String) -> ConfigError { ConfigError("WORKERS_FILE \(source): \(text)") }
        let names: [String]
        do {
            names = try reader.requiredStringArray(forKey: "workers")
        } catch {
            throw fail("needs `workers`, a list of worker names (each with its own table: url, ref_path, concurrency, gpt_weights, sovits_weights, tags)")
        }
        guard !names.isEmpty else { throw fail("`workers` names no worker") }
        var specs: [WorkerSpec] = []
        for name in names {
            guard WorkerSpec.isValidName(name) else { throw fail("worker name \(name.debugDescription) must be \(WorkerSpec.nameRule)") }
            guard !specs.contains(where: { $0.name == name }) else { throw fail("worker \(name) is listed twice") }
            let table = TypedTable(reader: reader.scoped(to: ConfigKey([name])), name: name, fail: fail)
            guard let url = try table.string("url").flatMap(WorkerSpec.normalizedURL) else {
                throw fail("\(name).url must be an http(s) URL")
            }
            let concurrency = try table.int("concurrency") ?? defaultConcurrency
            guard (1...64).contains(concurrency) else { throw fail("\(name).concurrency must be 1 to 64: \(concurrency)") }
            let gpt = try table.string("gpt_weights")
            let sovits = try table.string("sovits_weights")
            guard (gpt == nil) == (sovits == nil) else {
                throw fail("\(name) gives one of gpt_weights and sovits_weights: give both or neither")
            }
            specs.append(WorkerSpec(name: name, url: url, refPath: try table.string("ref_path"), concurrency: concurrency,
                                    weights: ModelWeights.pair(gpt: gpt, sovits: sovits), tags: try table.stringArray("tags") ?? []))
        }
        return specs
    }
}

/// One worker's table. swift-configuration's optional getters answer nil both for a missing key and for a value of
/// another type; a mistyped value (`concurrency: two`) must stop the start with its key named, not become the default.
private struct TypedTable {
    let reader: ConfigReader
    let name: String
    let fail: (String) -> ConfigError

    func string(_ key: String) throws -> String? {
        if let value = reader.string(forKey: ConfigKey([key])) { return value }
        return try absent(key, "a string")
    }

    func int(_ key: String) throws -> Int? {
        if let value = reader.int(forKey: ConfigKey([key])) { return value }
        return try absent(key, "a whole number")
    }

    func stringArray(_ key: String) throws -> [String]? {
        if let value = reader.stringArray(forKey: ConfigKey([key])) { return value }
        return try absent(key, "a list")
    }

    /// Nil when the key has no value of any type; otherwise the value is of the wrong type.
    private func absent<T>(_ key: String, _ expected: String) throws -> T? {
        let k = ConfigKey([key])
        let present = reader.string(forKey: k) != nil || reader.int(forKey: k) != nil || reader.double(forKey: k) != nil
            || reader.bool(forKey: k) != nil || reader.stringArray(forKey: k) != nil
        if present { throw fail("\(name).\(key) must be \(expected)") }
        return nil
    }
}
