/// The GPT and SoVITS weights an api_v2 server has loaded, as the paths `/set_gpt_weights` and
/// `/set_sovits_weights` take them (on that server's disk). A request that names none runs on whatever is loaded.
public struct ModelWeights: Sendable, Hashable, Codable {
    public var gpt: String
    public var sovits: String

    public init(gpt: String, sovits: String) {
        self.gpt = gpt
        self.sovits = sovits
    }

    /// `gpt + sovits` when both are set, nil when neither; one alone is a mistake the caller reports.
    public static func pair(gpt: String?, sovits: String?) -> ModelWeights? {
        guard let gpt, let sovits, !gpt.isEmpty, !sovits.isEmpty else { return nil }
        return ModelWeights(gpt: gpt, sovits: sovits)
    }

    /// The short form the console shows: the weights' file names.
    public var summary: String {
        func base(_ path: String) -> String { String(path.split(separator: "/").last ?? Substring(path)) }
        return base(gpt) + " + " + base(sovits)
    }
}
