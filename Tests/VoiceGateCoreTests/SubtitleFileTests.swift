import Testing
@testable import VoiceGateCore

@Suite("Subtitle files (SRT and WebVTT)")
struct SubtitleFileTests {
    static func read(_ text: String, maxCues: Int = 100) throws -> (SubtitleFile.Format, [SubtitleCue]) {
        try SubtitleFile.read(Array(text.utf8), maxCues: maxCues)
    }

    @Test func srtWithCRLFABOMMarkupAndTwoLineCues() throws {
        let srt = "\u{FEFF}1\r\n00:00:01,000 --> 00:00:02,500\r\n<i>Hello</i> there,\r\n{\\an8}general.\r\n\r\n"
            + "2\r\n00:00:03,250 --> 00:01:04,005\r\nTom &amp; Jerry\r\n\r\n\r\n3\n01:00:00,000 --> 01:00:01,000\n<b></b>\n\n"
            + "4\n100:00:00,5 --> 100:00:01,50\nLate.\n"
        let (format, cues) = try Self.read(srt)
        #expect(format == .srt)
        #expect(cues == [
            SubtitleCue(start: 1000, end: 2500, text: "Hello there, general."),
            SubtitleCue(start: 3250, end: 64005, text: "Tom & Jerry"),
            SubtitleCue(start: 360_000_500, end: 360_001_500, text: "Late."), // cue 3 has nothing to say
        ])
    }

    @Test func webVTTWithHeaderNotesStylesIdentifiersSettingsAndShortTimes() throws {
        let vtt = """
            WEBVTT - a dub

            NOTE written by hand
            over two lines

            STYLE
            ::cue { color: yellow }

            intro
            00:01.000 --> 00:02.000 align:start position:10%
            <v Roger>Hi, <c.loud>Bob</c>!

            00:00:02.500 --> 00:00:04.000
            Fine &lt;really&gt;.
            """
        let (format, cues) = try Self.read(vtt)
        #expect(format == .vtt)
        #expect(cues == [SubtitleCue(start: 1000, end: 2000, text: "Hi, Bob!"), SubtitleCue(start: 2500, end: 4000, text: "Fine <really>.")])
    }

    @Test func badFilesSayWhereAndWhy() {
        func failure(_ text: String, maxCues: Int = 100) -> String {
            do {
                _ = try Self.read(text, maxCues: maxCues)
                return "read"
            } catch {
                return "\(error)"
            }
        }
        #expect(failure("1\n00:00:01,000 -> 00:00:02,000\nHi\n") == "line 1: a subtitle block without a timing line (\"00:00:01,000 --> 00:00:02,500\")")
        #expect(failure("1\n00:00:01,000 --> 00:00:61,000\nHi\n") == "line 2: cannot read the times in \"00:00:01,000 --> 00:00:61,000\" (HH:MM:SS,mmm or HH:MM:SS.mmm)")
        #expect(failure("1\n00:00:05,000 --> 00:00:02,000\nHi\n") == "line 2: the cue ends before it starts")
        #expect(failure("1\n00:00:01,000 --> 00:00:02,000\n<i></i>\n") == "the subtitle file has no cue with text")
        #expect(failure("1\n00:00:01,000 --> 00:00:02,000\na\n\n2\n00:00:02,000 --> 00:00:03,000\nb\n", maxCues: 1)
            == "line 6: more than 1 cues (JOB_MAX_ITEMS)")
        #expect((try? SubtitleFile.read([0x31, 0x0A, 0xFF, 0xFE], maxCues: 10)) == nil)
        #expect(failure("") == "the subtitle file has no cue with text")
    }

    @Test func writtenFilesReadBackTheSameInBothFormats() throws {
        let cues = [SubtitleCue(start: 0, end: 1234, text: "First."), SubtitleCue(start: 1534, end: 3_723_004, text: "Second\nline --> on."),
                    SubtitleCue(start: 3_723_304, end: 3_723_305, text: "你好。")]
        #expect(SubtitleFile.write(cues, as: .srt).hasPrefix("1\n00:00:00,000 --> 00:00:01,234\nFirst.\n\n2\n00:00:01,534 --> 01:02:03,004\n"))
        #expect(SubtitleFile.write(cues, as: .vtt).hasPrefix("WEBVTT\n\n00:00:00.000 --> 00:00:01.234\nFirst.\n\n"))
        for format in SubtitleFile.Format.allCases {
            let (read, back) = try SubtitleFile.read(Array(SubtitleFile.write(cues, as: format).utf8), maxCues: 10)
            #expect(read == format)
            #expect(back.map(\.start) == cues.map(\.start) && back.map(\.end) == cues.map(\.end))
            #expect(back.map(\.text) == ["First.", "Second line --> on.", "你好。"])
        }
    }

    /// Found by fuzz-subtitles: a cue whose text held "<" and, once written, a ">" read back as one markup tag and
    /// lost all its text.
    @Test func textThatLooksLikeMarkupOrEntitiesReadsBackAsItself() throws {
        let texts = ["<v A00:00:02.500 -WEBVT NOTE xrs, e&gE.02.000 a0:01,000 -->", "1 < 2 > 0", "Tom &amp; Jerry &lt;3",
                     "{\\an8} is a tag, {braces} are not", "{x}"]
        let cues = texts.enumerated().map { SubtitleCue(start: $0.offset * 1000, end: $0.offset * 1000 + 500, text: $0.element) }
        for format in SubtitleFile.Format.allCases {
            let (_, back) = try SubtitleFile.read(Array(SubtitleFile.write(cues, as: format).utf8), maxCues: 10)
            #expect(back.map(\.text) == texts.map { $0.replacingOccurrences(of: "{\\", with: "{ \\") })
        }
        let fuzzed = "WEBVTT\n\nid\n00:01.000 --> 00:02.000 align:start\n<v A00:00:02.500 -WEBVT\u{01}\u{04}\nNOTE xrs, e&gE.02.000 a0:01,000 -->\n"
        let (format, read) = try Self.read(fuzzed)
        let (_, again) = try SubtitleFile.read(Array(SubtitleFile.write(read, as: format).utf8), maxCues: 10)
        #expect(again == read)
        #expect(try Self.read("1\n00:00:01,000 --> 00:00:02,000\n{\\an8}Top {not a tag}\n").1.map(\.text) == ["Top {not a tag}"])
    }
}
