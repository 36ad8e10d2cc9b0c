import Foundation

/// Languages the gateway accepts: the seed's four and GPT-SoVITS's own codes, case-insensitively.
public enum Language {
    public static let seed = ["auto", "zh", "en", "ja"]
    public static let sovits = ["auto", "auto_yue", "en", "zh", "ja", "yue", "ko", "all_zh", "all_ja", "all_yue", "all_ko"]

    /// The lowercase code, or nil when it is not a language GPT-SoVITS knows.
    public static func normalize(_ raw: String) -> String? {
        let code = raw.trimmingCharacters(in: .whitespaces).lowercased()
        return sovits.contains(code) ? code : nil
    }
}

