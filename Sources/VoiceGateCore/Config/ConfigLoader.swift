import Foundation

/// Resolves the configuration: `.env` (or `--env-file`) under the real environment under command-line flags.
public enum ConfigLoader {
    public static func load(envFile: String?, environment: [String: String] = ProcessInfo.processInfo.environment,
                            overrides: [String: String]) throws -> GatewayConfig {
        var merged = try DotEnv.load(path: envFile ?? ".env", required: envFile != nil)
        var all = merged.merging(environment) { _, real in real }
        all.merge(overrides) { _, flag in flag }
        for name in GatewayConfig.variableNames {
            if let value = environment[name] { merged[name] = value }
        }
        merged.merge(overrides) { _, flag in flag }
        var config = try GatewayConfig.from(merged)
        config.environment = all
        return config
    }
}
