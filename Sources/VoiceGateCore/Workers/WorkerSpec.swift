import Foundation

/// One upstream server as configured: where it is, how it sees the reference folder, what it starts with.
public struct WorkerSpec: Sendable, Equatable {
    public var name: String
    public var url: String
    /// The shared reference folder as this worker sees it (`SOVITS_REF_PATH` for it); nil: the gateway's.
    public var refPath: String?
    /// Requests it runs at once: 1 for api_v2, whose concurrent streams mix voices.
    public var concurrency: Int
    /// The weights it loads at startup, when known; nil: whatever its config says, counted as unknown.
    public var weights: ModelWeights?
    public var tags: [String]

    public init(name: String, url: String, refPath: String? = nil, concurrency: Int = 1, weights: ModelWeights? = nil,
                tags: [String] = []) {
        self.name = name
        self.url = url
        self.refPath = refPath
        self.concurrency = concurrency
        self.weights = weights
        self.tags = tags
    }

    /// Same rule as voice names: a worker's name is part of admin URLs, never of a path on disk.
    public static func isValidName(_ name: String) -> Bool { VoiceRecord.isValidName(name) }

    /// `isValidName`'s rule, as error messages say it.
    public static let nameRule = "1-64 of A-Z a-z 0-9 _ -"

    /// An http(s) URL without its trailing slash, or nil.
    static func normalizedURL(_ text: String) -> String? {
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        guard let url = URL(string: trimmed), let scheme = url.scheme, ["http", "https"].contains(scheme), url.host != nil else {
            return nil
        }
        // Every trailing slash, and checked again: normalizing a normalized URL changes nothing
        // (`http://a/http://` lost one slash a time and stayed "valid"; found by fuzz-workers-file).
        var result = trimmed
        while result.hasSuffix("/") { result.removeLast() }
        guard let again = URL(string: result), again.scheme == scheme, again.host != nil else { return nil }
        return result
    }

    /// Names for `SOVITS_WORKERS`' URLs: the host when that is unique, else host-port, else numbered.
    static func names(for urls: [String]) -> [String] {
        func clean(_ s: String) -> String {
            String(s.map { $0.isLetter || $0.isNumber || $0 == "-" || $0 == "_" ? $0 : "-" }.prefix(VoiceRecord.maxNameLength))
        }
        let hosts = urls.map { clean(URL(string: $0)?.host ?? "worker") }
        let hostPorts = urls.map { url -> String in
            let u = URL(string: url)
            return clean((u?.host ?? "worker") + "-" + String(u?.port ?? (u?.scheme == "https" ? 443 : 80)))
        }
        if Set(hosts).count == urls.count { return hosts }
        if Set(hostPorts).count == urls.count { return hostPorts }
        return urls.indices.map { "worker\($0 + 1)" }
    }
}
