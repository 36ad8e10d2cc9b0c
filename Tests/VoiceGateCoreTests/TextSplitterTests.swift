import Testing
@testable import VoiceGateCore

@Suite("Splitting a long text into a job's items")
struct TextSplitterTests {
    let splitter = TextSplitter(maxCharacters: 60)

    @Test func sentencesEndAtTheirMarksInEveryLanguageNeverInsideAWordOrNumber() {
        let text = "It costs 3.14 dollars, e.g. here, says Dr. J. Smith of the U.S. Navy. Really?! \"Yes,\" she said. 今天天气很好。我们去公园吧！日本語もです？好的；走吧… 한국어도 됩니다. Done"
        #expect(TextSplitter(maxCharacters: 200).pieces(text, by: .sentence) == [
            "It costs 3.14 dollars, e.g. here, says Dr. J. Smith of the U.S. Navy.", "Really?!", "\"Yes,\" she said.", "今天天气很好。", "我们去公园吧！", "日本語もです？",
            "好的；", "走吧…", "한국어도 됩니다.", "Done",
        ])
    }

    @Test func closingQuotesStayWithTheirSentenceAndLinesAreJoined() {
        #expect(splitter.pieces("「行こう。」彼は言った。\nHe said \"go.\"\nThen\nleft.", by: .sentence)
            == ["「行こう。」", "彼は言った。", "He said \"go.\"", "Then left."])
        #expect(splitter.pieces("  \n\n ", by: .sentence).isEmpty)
        #expect(splitter.pieces("...", by: .sentence) == ["..."])
    }

    @Test func paragraphsAreBlankLineBlocksAndALongOneIsCutIntoSentences() {
        let text = "First line\nof one paragraph.\n\n  \nSecond one. Short.\n\n" + String(repeating: "A long sentence here. ", count: 4)
        #expect(splitter.pieces(text, by: .paragraph) == [
            "First line of one paragraph.", "Second one. Short.",
            "A long sentence here.", "A long sentence here.", "A long sentence here.", "A long sentence here.",
        ])
    }

    @Test func aSentenceOverTheLimitIsCutAtAClauseThenASpaceThenTheLimit() {
        let small = TextSplitter(maxCharacters: 20)
        #expect(small.pieces("One two three, four five six seven eight.", by: .sentence) == ["One two three,", "four five six seven", "eight."])
        #expect(small.pieces("Alpha beta gamma delta epsilon zeta.", by: .sentence) == ["Alpha beta gamma", "delta epsilon zeta."])
        let cjk = String(repeating: "很", count: 45) + "。"
        #expect(small.pieces(cjk, by: .sentence) == [String(repeating: "很", count: 20), String(repeating: "很", count: 20), String(repeating: "很", count: 5) + "。"])
        // A character is never cut in two, however it is encoded.
        let flags = String(repeating: "🇯🇵", count: 25)
        #expect(small.pieces(flags, by: .sentence).allSatisfy { $0.count <= 20 && $0.allSatisfy { $0 == "🇯🇵" } })
    }

    @Test(arguments: [5, 20, 60, 300])
    func everyPieceFitsAndNothingIsLostOrAdded(limit: Int) {
        let text = """
            Chapter one. It was a bright cold day in April, and the clocks were striking thirteen; Winston Smith, his chin \
            nuzzled into his breast in an effort to escape the vile wind, slipped quickly through the glass doors.
            吾輩は猫である。名前はまだ無い。どこで生れたかとんと見当がつかぬ。何でも薄暗いじめじめした所でニャーニャー泣いていた事だけは記憶している。

            Antidisestablishmentarianismfloccinaucinihilipilification is long. The end!
            \u{5C1}A line that starts with a combining mark.\r\u{301}\u{1}
            """
        for unit in TextSplitter.Unit.allCases {
            let pieces = TextSplitter(maxCharacters: limit).pieces(text, by: unit)
            #expect(pieces.allSatisfy { !$0.isEmpty && $0.count <= limit && $0 == $0.trimmed })
            // By scalars: a combining mark at a line's start makes one character with the space it is joined by.
            #expect(pieces.joined().unicodeScalars.filter { !$0.properties.isWhitespace } == text.unicodeScalars.filter { !$0.properties.isWhitespace })
        }
    }
}
