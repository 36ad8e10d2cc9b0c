/// How the double behaves: its model's output rate, how long "inference" takes, its protocol version.
public struct SovitsDoubleOptions: Sendable {
    /// 32000 for v1/v2/v2Pro models, 24000 for v3, 48000 for v4.
    public var sampleRate = 32000
    /// Seconds of audio per character of text, before speed_factor.
    public var secondsPerCharacter = 0.06
    /// Time each synthesis takes, as a GPU would.
    public var inferenceDelay: Duration = .milliseconds(50)
    /// The languages the loaded model accepts (v2 by default).
    public var languages: Set<String> = ["auto", "auto_yue", "en", "zh", "ja", "yue", "ko", "all_zh", "all_ja", "all_yue", "all_ko"]
    public var version = "v2"
    /// Skip generating a waveform (benchmarks: bytes matter, not their shape).
    public var silentOutput = false
    /// How long a `[hang]` request goes unanswered (bounded, so the double can still shut down).
    public var hangDuration: Duration = .seconds(2)
    /// Time `/set_gpt_weights` and `/set_sovits_weights` each take.
    public var switchDelay: Duration = .milliseconds(20)
    /// Keep every request's body and timings (`SovitsDoubleRecorder.Stats`) for a test to read. The stand-alone
    /// double that benchmarks run for minutes at thousands of requests a second keeps counts only: its memory and
    /// its work per request must not grow with the requests it has served.
    public var keepsRecords = true

    public init() {}
}
