import Foundation

/// Where the gateway's key comes from, so startup can say so without ever printing the key.
public enum APIKeySource: Sendable, Equatable {
    case configured
    case generated(path: String)
    case loaded(path: String)
}

/// Provides the key: the configured one, or one generated once and kept owner-only in `DATA_DIR`.
public enum APIKeyStore {
    public static let fileName = "api_key"

    public static func resolve(config: GatewayConfig) throws -> (key: String, source: APIKeySource) {
        if let key = config.apiKey { return (key, .configured) }
        let dir = GatewayConfig.absolute(config.dataDir)
        let path = dir + "/" + fileName
        let fm = FileManager.default
        if let data = fm.contents(atPath: path), let text = String(data: data, encoding: .utf8) {
            let key = text.trimmingCharacters(in: .whitespacesAndNewlines)
            guard key.count >= 16 else { throw ConfigError("\(path) holds no usable key: delete it to generate a new one") }
            try? fm.setAttributes([.posixPermissions: 0o600], ofItemAtPath: path)
            return (key, .loaded(path: path))
        }
        do {
            try fm.createDirectory(atPath: dir, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        } catch {
            throw ConfigError("DATA_DIR \(dir) cannot be created: \(error.localizedDescription)")
        }
        let key = generate()
        guard fm.createFile(atPath: path, contents: Data((key + "\n").utf8), attributes: [.posixPermissions: 0o600]) else {
            throw ConfigError("cannot write the generated API key to \(path)")
        }
        return (key, .generated(path: path))
    }

    /// 32 random bytes as URL-safe base64 (43 characters).
    public static func generate() -> String {
        var rng = SystemRandomNumberGenerator()
        let bytes = (0..<32).map { _ in UInt8.random(in: .min ... .max, using: &rng) }
        return Data(bytes).base64EncodedString()
            .replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
            .replacingOccurrences(of: "=", with: "")
    }
}
