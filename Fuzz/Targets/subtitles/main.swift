// A job's outside text: a subtitle file (SRT or WebVTT) and a long text to split. Reading fails only with a
// SubtitleError; what it reads writes back and reads again the same; every piece of a split fits the limit and
// the pieces keep every scalar of the text but its white space.
import FuzzDriver
#if FUZZING
@testable import VoiceGateCore

fuzz { data, count in
    let input = Array(bytes(data, count))
    if let (format, cues) = try? SubtitleFile.read(input, maxCues: 500) {
        for cue in cues where cue.end < cue.start || cue.text.isEmpty || cue.text.contains(where: \.isNewline) {
            violated("read the cue \(cue)")
        }
        do {
            let (again, back) = try SubtitleFile.read(Array(SubtitleFile.write(cues, as: format).utf8), maxCues: 500)
            if again != format || back.map(\.start) != cues.map(\.start) || back.map(\.end) != cues.map(\.end) {
                violated("\(format) written and read again changed its times")
            }
        } catch {
            violated("cannot read back what was written: \(error)")
        }
    }
    let text = String(decoding: input, as: UTF8.self)
    let limit = 1 + Int(input.first ?? 0) % 80
    for unit in TextSplitter.Unit.allCases {
        let pieces = TextSplitter(maxCharacters: limit).pieces(text, by: unit)
        if let long = pieces.first(where: { $0.count > limit || $0.isEmpty }) { violated("a piece of \(long.count) characters (limit \(limit))") }
        // Compared by scalars: a line that starts with a combining mark makes one character with the space it is
        // joined by, and is still every scalar the text had.
        if visibleScalars(pieces.joined()) != visibleScalars(text) { violated("\(unit) split lost or added characters") }
    }
    return 0
}

func visibleScalars(_ text: String) -> [Unicode.Scalar] { text.unicodeScalars.filter { !$0.properties.isWhitespace } }
#else
fuzz { _, _ in 0 }
#endif
