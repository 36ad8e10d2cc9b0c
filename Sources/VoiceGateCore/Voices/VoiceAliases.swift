import Foundation

/// `VOICE_ALIASES=alloy=anna,nova=bert`: names clients with a fixed voice list send (OpenAI's), mapped to saved voices.
public struct VoiceAliases: Sendable, Equatable {
    public private(set) var targets: [String: String] = [:]

    public init(_ targets: [String: String] = [:]) { self.targets = targets }

    /// Parses the variable; the message says what is wrong with it.
    public static func parse(_ raw: String) -> Result<VoiceAliases, ConfigError> {
        var targets: [String: String] = [:]
        for entry in raw.split(separator: ",") {
            let parts = entry.split(separator: "=", omittingEmptySubsequences: false).map { $0.trimmingCharacters(in: .whitespaces) }
            guard parts.count == 2, VoiceRecord.isValidName(parts[0]), VoiceRecord.isValidName(parts[1]) else {
                return .failure(ConfigError("VOICE_ALIASES must be ALIAS=VOICE pairs separated by commas (names of letters, digits, _ and -): '\(entry)'"))
            }
            targets[parts[0]] = parts[1]
        }
        return .success(VoiceAliases(targets))
    }

    /// The saved voice's name for `name` (itself when it is no alias).
    public func resolve(_ name: String) -> String { targets[name] ?? name }

    /// The aliases that lead to `voice`, sorted.
    public func aliases(of voice: String) -> [String] { targets.filter { $0.value == voice }.keys.sorted() }
}
