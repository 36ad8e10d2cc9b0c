/// The line `voicegate jobs submit` redraws while it waits: a bar, the items, the audio made and the time left.
public struct JobProgress: Sendable, Equatable {
    public var done: Int
    public var failed: Int
    public var total: Int
    public var audioSeconds: Double
    public var etaSeconds: Double?
    public var status: String

    public init(done: Int, failed: Int, total: Int, audioSeconds: Double, etaSeconds: Double?, status: String) {
        self.done = done
        self.failed = failed
        self.total = total
        self.audioSeconds = audioSeconds
        self.etaSeconds = etaSeconds
        self.status = status
    }

    /// `[#########-----------] 12/40 items, 3.2 min of audio, about 1m20s left` (`width` is the bar's).
    public func line(width: Int = 24) -> String {
        let finished = done + failed
        let filled = total > 0 ? min(width, finished * width / total) : 0
        var text = "[" + String(repeating: "#", count: filled) + String(repeating: "-", count: width - filled) + "] "
        text += "\(finished)/\(total) items"
        if failed > 0 { text += " (\(failed) failed)" }
        text += ", " + DecimalText.format(audioSeconds / 60, places: 1) + " min of audio"
        if status == "paused" || status == "queued" {
            text += ", " + status
        } else if let etaSeconds, finished < total {
            text += ", about " + Self.duration(etaSeconds) + " left"
        }
        return text
    }

    /// `45s`, `3m05s`, `2h10m`.
    public static func duration(_ seconds: Double) -> String {
        let s = max(0, Int(seconds.rounded()))
        if s < 60 { return "\(s)s" }
        if s < 3600 { return "\(s / 60)m" + (s % 60 < 10 ? "0" : "") + "\(s % 60)s" }
        return "\(s / 3600)h" + (s / 60 % 60 < 10 ? "0" : "") + "\(s / 60 % 60)m"
    }
}
