import ArgumentParser
import Foundation
import Logging
import VoiceGateCore

/// `voicegate [serve] [flags]` runs the gateway (console or headless); `voicegate keys ...` manages keys.
/// The root has no options of its own: ArgumentParser would give it a subcommand's `--data-dir`.
struct VoiceGateCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "voicegate",
        abstract: "A gateway and operator console for self-hosted voice cloning (GPT-SoVITS).",
        discussion: """
        With no flags on a terminal, opens the operator console; --server runs the same gateway headless.
        Settings come from the environment, a .env file and the flags (flags win). See README.md.
        """,
        version: Gateway.version,
        subcommands: [ServeCommand.self, KeysCommand.self, VoicesCommand.self, JobsCommand.self],
        defaultSubcommand: ServeCommand.self
    )

    /// One clear line on stderr and a non-zero exit.
    static func fail(_ message: String) -> Never {
        FileHandle.standardError.write(Data("voicegate: \(message)\n".utf8))
        Foundation.exit(1)
    }
}

/// The gateway itself: the operator console on a terminal, or headless with `--server`.
struct ServeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract: "Run the gateway (the default): the operator console, or headless with --server."
    )

    @Flag(name: .long, help: "Run headless (no terminal UI), for systemd and containers.")
    var server = false

    @Option(name: .long, help: "Read settings from this file instead of ./.env.")
    var envFile: String?

    @Option(name: .long, help: "Listen address (HOST, default 127.0.0.1).")
    var host: String?

    @Option(name: .long, help: "Listen port (PORT, default 8000).")
    var port: String?

    @Option(name: .long, help: "GPT-SoVITS base URL (SOVITS_BASE_URL). Unset: the embedded espeak-ng engine.")
    var sovitsBaseUrl: String?

    @Option(name: .long, help: "Upstream protocol: v2 or adapter (SOVITS_API).")
    var sovitsApi: String?

    @Option(name: .long, help: "Where uploaded references are stored (SOVITS_REF_DIR).")
    var refDir: String?

    @Option(name: .long, help: "The reference folder as GPT-SoVITS sees it (SOVITS_REF_PATH).")
    var refPath: String?

    @Option(name: .long, help: "Where the generated key and working files live (DATA_DIR).")
    var dataDir: String?

    @Option(name: .long, help: "Requests sent to the upstream at once (SOVITS_MAX_CONCURRENCY).")
    var maxConcurrency: String?

    @Option(name: .long, help: "Requests that may wait for the upstream (QUEUE_MAX).")
    var queueMax: String?

    @Option(name: .long, help: "Seconds a request may wait in the queue (QUEUE_TIMEOUT).")
    var queueTimeout: String?

    @Option(name: .long, help: "Log level: trace, debug, info, notice, warning, error (LOG_LEVEL).")
    var logLevel: String?

    var overrides: [String: String] {
        let pairs: [(String, String?)] = [
            ("HOST", host), ("PORT", port), ("SOVITS_BASE_URL", sovitsBaseUrl), ("SOVITS_API", sovitsApi),
            ("SOVITS_REF_DIR", refDir), ("SOVITS_REF_PATH", refPath), ("DATA_DIR", dataDir),
            ("SOVITS_MAX_CONCURRENCY", maxConcurrency), ("QUEUE_MAX", queueMax), ("QUEUE_TIMEOUT", queueTimeout),
            ("LOG_LEVEL", logLevel),
        ]
        return Dictionary(uniqueKeysWithValues: pairs.compactMap { name, value in value.map { (name, $0) } })
    }

    func run() async throws {
        let config: GatewayConfig
        do {
            config = try ConfigLoader.load(envFile: envFile, overrides: overrides)
        } catch {
            VoiceGateCommand.fail("configuration: \(error)")
        }
        if server {
            await HeadlessServer(config: config).run()
        } else {
            await ConsoleLauncher(config: config).run()
        }
    }
}
