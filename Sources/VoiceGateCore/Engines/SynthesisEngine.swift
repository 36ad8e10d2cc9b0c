/// Something that turns a validated request into WAV bytes: GPT-SoVITS, the seed's adapter, or espeak-ng.
public protocol SynthesisEngine: Sendable {
    /// Short name shown everywhere: `gpt-sovits`, `adapter`, `espeak-ng (embedded)`.
    var name: String { get }
    /// Where it is: the upstream URL, or the command that runs.
    var target: String { get }
    /// Starts a synthesis and returns once audio bytes can be read. Errors are `GatewayError`s.
    func synthesize(_ request: SynthesisRequest, timeout: Double) async throws -> ByteChunkReader
    /// A cheap check that does not run the model.
    func probe(timeout: Double) async -> ProbeOutcome
}

public enum ProbeOutcome: Sendable, Equatable {
    case up(latency: Double)
    case failed(reason: String, timedOut: Bool)
}

/// An engine whose server can load other model weights between requests (api_v2's `/set_*_weights`).
public protocol WeightLoading: Sendable {
    func load(_ weights: ModelWeights, timeout: Double) async throws
}
