import ArgumentParser
import Foundation
import Logging
import VoiceGateCore

/// Where the CLI finds the store: the same settings the server reads (environment, `.env`, flags).
struct StoreOptions: ParsableArguments {
    @Option(name: .long, help: "Read settings from this file instead of ./.env.")
    var envFile: String?

    @Option(name: .long, help: "DATA_DIR of the gateway (its store is DATA_DIR/voicegate.db unless STORE_URL says otherwise).")
    var dataDir: String?

    @Option(name: .long, help: "The store (STORE_URL): sqlite:///var/lib/voicegate/voicegate.db, or postgres://USER:PASSWORD@HOST:PORT/DB shared by several gateways.")
    var storeUrl: String?

    /// Opens the store, runs `body` and closes it again, also when `body` throws.
    func with<T>(_ body: (any GatewayStore) async throws -> T) async throws -> T {
        let db = await open()
        do {
            let result = try await body(db)
            try? await db.close()
            return result
        } catch {
            try? await db.close()
            throw error
        }
    }

    /// The same with the saved voices (the reference folder of the gateway's settings) and the upload limits.
    func withLibrary<T>(_ body: (any GatewayStore, VoiceLibrary, ReferenceLimits) async throws -> T) async throws -> T {
        let config = loadConfig()
        return try await with { db in
            let library = VoiceLibrary(store: db, referenceDirectory: config.absoluteRefDir, aliases: config.voiceAliases)
            if let problem = library.prepare() { VoiceGateCommand.fail(problem) }
            return try await body(db, library, ReferenceLimits(config: config))
        }
    }

    private func loadConfig() -> GatewayConfig {
        var overrides: [String: String] = [:]
        if let dataDir { overrides["DATA_DIR"] = dataDir }
        if let storeUrl { overrides["STORE_URL"] = storeUrl }
        do {
            return try ConfigLoader.load(envFile: envFile, overrides: overrides)
        } catch {
            VoiceGateCommand.fail("\(error)")
        }
    }

    private func open() async -> any GatewayStore {
        do {
            return try await loadConfig().storeLocation.open(logger: Logger(label: "voicegate.keys") { _ in SwiftLogNoOpLogHandler() })
        } catch {
            VoiceGateCommand.fail("\(error)")
        }
    }
}
