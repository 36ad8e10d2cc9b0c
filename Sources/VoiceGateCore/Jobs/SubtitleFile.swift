import Foundation

/// SubRip (`.srt`) and WebVTT (`.vtt`) files: read into cues for a dubbing job, and written from the timings of the
/// audio a job produced. Reading is for bytes from the network: every failure is a `SubtitleError` naming the line,
/// never a trap (fuzzed by `fuzz-subtitles`).
public enum SubtitleFile {
    public enum Format: String, Sendable, CaseIterable {
        case srt, vtt
    }

    /// What a cue's text keeps for speech: markup (`<i>`, `<c.yellow>`, `<00:01.000>`, the `{\an8}` override tags
    /// SRT files carry over from ASS) goes, lines are joined by spaces, and `&amp;`-style entities become their
    /// characters.
    static func spokenText(_ lines: [Substring]) -> String {
        var out = ""
        for line in lines {
            var text = ""
            var skipping: Character?
            for (i, c) in zip(line.indices, line) {
                if let closing = skipping {
                    if c == closing { skipping = nil }
                    continue
                }
                if c == "<", line.contains(">") { skipping = ">"; continue }
                if c == "{", line[i...].dropFirst().first == "\\", line.contains("}") { skipping = "}"; continue }
                text.append(c)
            }
            let trimmed = text.trimmed
            if trimmed.isEmpty { continue }
            out += (out.isEmpty ? "" : " ") + trimmed
        }
        for (entity, character) in [("&lt;", "<"), ("&gt;", ">"), ("&nbsp;", " "), ("&quot;", "\""), ("&apos;", "'"), ("&amp;", "&")] {
            out = out.replacingOccurrences(of: entity, with: character)
        }
        return out.trimmed
    }

    /// The cues of an SRT or WebVTT file (told apart by the `WEBVTT` header), in file order, each with the text
    /// it speaks. Cues with nothing to say (markup only) are left out. At most `maxCues`.
    public static func read(_ bytes: [UInt8], maxCues: Int) throws(SubtitleError) -> (Format, [SubtitleCue]) {
        guard let text = String(validating: bytes.starts(with: [0xEF, 0xBB, 0xBF]) ? Array(bytes.dropFirst(3)) : bytes, as: UTF8.self) else {
            throw SubtitleError(line: nil, "the subtitle file is not UTF-8 text")
        }
        let lines = text.split(omittingEmptySubsequences: false, whereSeparator: \.isNewline)
        let isVTT = lines.first.map { $0 == "WEBVTT" || $0.hasPrefix("WEBVTT ") || $0.hasPrefix("WEBVTT\t") } ?? false
        var cues: [SubtitleCue] = []
        var i = isVTT ? 1 : 0
        // Blocks are separated by blank lines; a block is a cue if one of its first two lines is a timing line.
        while i < lines.count {
            while i < lines.count, lines[i].allSatisfy(\.isWhitespace) { i += 1 }
            guard i < lines.count else { break }
            let blockStart = i
            var block: [Substring] = []
            while i < lines.count, !lines[i].allSatisfy(\.isWhitespace) {
                block.append(lines[i])
                i += 1
            }
            if isVTT, let first = block.first, first.hasPrefix("NOTE") || first == "STYLE" || first == "REGION" { continue }
            guard let timing = block.prefix(2).firstIndex(where: { $0.contains("-->") }) else {
                throw SubtitleError(line: blockStart + 1, "a subtitle block without a timing line (\"00:00:01,000 --> 00:00:02,500\")")
            }
            let line = blockStart + timing + 1
            let (start, end) = try timings(block[timing], line: line)
            let spoken = spokenText(Array(block[(timing + 1)...]))
            if spoken.isEmpty { continue }
            guard cues.count < maxCues else { throw SubtitleError(line: line, "more than \(maxCues) cues (JOB_MAX_ITEMS)") }
            cues.append(SubtitleCue(start: start, end: end, text: spoken))
        }
        guard !cues.isEmpty else { throw SubtitleError(line: nil, "the subtitle file has no cue with text") }
        return (isVTT ? .vtt : .srt, cues)
    }

    static func timings(_ line: Substring, line number: Int) throws(SubtitleError) -> (Int, Int) {
        let parts = line.split(separator: "-->", maxSplits: 1, omittingEmptySubsequences: false)
        guard parts.count == 2 else { throw SubtitleError(line: number, "a timing line needs START --> END") }
        // WebVTT puts cue settings after the end time ("align:start position:10%").
        let endField = parts[1].split(whereSeparator: \.isWhitespace).first ?? ""
        guard let start = timestamp(parts[0].trimmed[...]), let end = timestamp(endField) else {
            throw SubtitleError(line: number, "cannot read the times in \"\(String(line.prefix(60)))\" (HH:MM:SS,mmm or HH:MM:SS.mmm)")
        }
        guard end >= start else { throw SubtitleError(line: number, "the cue ends before it starts") }
        return (start, end)
    }

    /// `HH:MM:SS,mmm`, `HH:MM:SS.mmm` or `MM:SS.mmm`, in milliseconds (hours up to 99999).
    static func timestamp(_ text: Substring) -> Int? {
        let fields = text.split(separator: ":", omittingEmptySubsequences: false)
        guard (2...3).contains(fields.count) else { return nil }
        let secondsField = fields[fields.count - 1]
        let split = secondsField.split(omittingEmptySubsequences: false, whereSeparator: { $0 == "," || $0 == "." })
        guard split.count == 2, split[0].count == 2, (1...3).contains(split[1].count) else { return nil }
        func number(_ s: Substring, digits: ClosedRange<Int>) -> Int? {
            guard digits.contains(s.count), s.allSatisfy({ $0.isASCII && $0.isNumber }) else { return nil }
            return Int(s)
        }
        guard let seconds = number(split[0], digits: 2...2), seconds < 60,
              var millis = number(split[1], digits: 1...3),
              let minutes = number(fields[fields.count - 2], digits: 2...2), minutes < 60 else { return nil }
        millis *= [100, 10, 1][split[1].count - 1]
        let hours = fields.count == 3 ? number(fields[0], digits: 1...5) : 0
        guard let hours else { return nil }
        return ((hours * 60 + minutes) * 60 + seconds) * 1000 + millis
    }

    /// The file for `cues`, numbered from 1.
    public static func write(_ cues: [SubtitleCue], as format: Format) -> String {
        var out = format == .vtt ? "WEBVTT\n\n" : ""
        for (n, cue) in cues.enumerated() {
            if format == .srt { out += "\(n + 1)\n" }
            out += "\(clock(cue.start, format)) --> \(clock(cue.end, format))\n"
            out += escaped(cue.text) + "\n\n"
        }
        return out
    }

    /// A cue's text as one line that reads back as itself: a newline would end the cue, and `<`, `>` and `&` would
    /// read as markup or an entity (or, in "-->", as a timing line), so they are written as entities; an ASS
    /// override tag's `{\` gets a space.
    static func escaped(_ text: String) -> String {
        var out = ""
        for c in text.replacingNewlinesWithSpaces {
            switch c {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\\" where out.last == "{": out += " \\"
            default: out.append(c)
            }
        }
        return out
    }

    static func clock(_ millis: Int, _ format: Format) -> String {
        let ms = max(0, millis)
        func two(_ n: Int) -> String { n < 10 ? "0\(n)" : "\(n)" }
        let fraction = ms % 1000
        let fractionText = fraction < 10 ? "00\(fraction)" : fraction < 100 ? "0\(fraction)" : "\(fraction)"
        return "\(two(ms / 3_600_000)):\(two(ms / 60_000 % 60)):\(two(ms / 1000 % 60))\(format == .srt ? "," : ".")\(fractionText)"
    }
}

/// A subtitle file that cannot be read, with the line (1-based) where it went wrong.
public struct SubtitleError: Error, Equatable, CustomStringConvertible {
    public let line: Int?
    public let message: String

    init(line: Int?, _ message: String) {
        self.line = line
        self.message = message
    }

    public var description: String { line.map { "line \($0): \(message)" } ?? message }
}
